"""The explorer page in headless Chromium: URL state, facets, sorting, calendar, errors."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser import wait_until

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning"),
]


def query(tab) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(tab.url).query).items()}


def wait_count(tab, text):
    """Wait for the result count; null-safe, as a click may be loading a new page."""
    wait_until(tab, "t => document.querySelector('#result-count')?.textContent === t", arg=text)


def test_page_state_lives_in_the_url(page, world):
    page.goto(page.base + "/admin/data-explorer")
    wait_count(page, "42 tasks")
    assert page.locator("#result-rows tr").count() == 42

    # Sorting: first click ascending, second descending.
    page.click("th[data-sort=quality_rating]")
    page.wait_for_url(re.compile(r"sort_by=quality_rating&sort_dir=asc"))
    wait_until(page, "document.querySelector('#result-rows td.rating').textContent === '0.0'")
    page.click("th[data-sort=quality_rating]")
    page.wait_for_url(re.compile(r"sort_by=quality_rating$"))
    assert page.get_attribute("th[data-sort=quality_rating]", "aria-sort") == "descending"

    # Debounced search: one history entry once typing stops.
    page.fill("#f-search", "quinn")
    page.wait_for_url(re.compile(r"search=quinn"))
    quinn = sum(1 for t in world.tasks if t.annotator.name == "Quinn")
    wait_count(page, f"{quinn} tasks")
    # Facets now hold only values present in the matching rows.
    page.click("#menu-annotator-button")
    wait_until(page, "document.querySelector('#menu-annotator .option-count').textContent !== ''")
    assert page.locator("#menu-annotator .option-label").all_inner_texts() == ["Quinn"]
    page.keyboard.press("Escape")

    page.check("input[name=status][value=in_review]", force=True)
    page.wait_for_url(re.compile(r"status=in_review"))
    in_review_count = sum(
        1 for t in world.tasks if t.annotator.name == "Quinn" and t.status == "in_review"
    )
    wait_count(page, f"{in_review_count} task" + ("" if in_review_count == 1 else "s"))

    apollo = world.jobs["Apollo"].pk
    page.click("#menu-project-button")
    page.check(f"#menu-project input[value='{apollo}']")
    page.wait_for_url(re.compile(rf"project={apollo}"))
    page.keyboard.press("Escape")

    # Export links carry the active filters and sort, but no paging.
    href = page.get_attribute("#export-csv", "href")
    params = parse_qs(urlsplit(href).query)
    assert params["format"] == ["csv"] and params["search"] == ["quinn"]
    assert params["project"] == [str(apollo)] and params["sort_by"] == ["quality_rating"]
    assert "page" not in params

    # Back restores the previous state, reload keeps the current one.
    page.go_back()
    page.wait_for_url(lambda url: "project=" not in url)
    wait_count(page, f"{in_review_count} task" + ("" if in_review_count == 1 else "s"))
    assert page.locator("#menu-project input:checked").count() == 0
    assert page.inner_text("#menu-project-button") == "Any project"
    page.reload()
    wait_count(page, f"{in_review_count} task" + ("" if in_review_count == 1 else "s"))
    assert page.input_value("#f-search") == "quinn"
    assert page.is_checked("input[name=status][value=in_review]")


def test_paging_and_page_size(page, world):
    page.goto(page.base + "/admin/data-explorer?page_size=25")
    wait_count(page, "42 tasks")
    assert page.locator("#result-rows tr").count() == 25
    page.click("#page-next")
    page.wait_for_url(re.compile(r"page=2"))
    wait_until(page, "document.querySelectorAll('#result-rows tr').length === 17")
    assert page.inner_text("#page-info") == "Page 2 of 2"
    assert page.is_disabled("#page-next")
    page.select_option("#page-size", "100")
    page.wait_for_url(lambda url: "page=2" not in url and "page_size=100" in url)


def test_calendar_picks_a_range_over_two_months(page, world):
    page.goto(page.base + "/admin/data-explorer?created_from=2025-03-01&created_to=2025-03-31")
    march = sum(1 for t in world.tasks if t.created_at.year == 2025 and t.created_at.month == 3)
    wait_count(page, f"{march} tasks")
    page.click("#f-created")
    calendar = page.locator(".flatpickr-calendar.open")
    assert calendar.locator(".flatpickr-month").count() == 2  # two months side by side
    assert calendar.locator(".dayContainer").count() == 2
    assert calendar.locator(".flatpickr-current-month").first.inner_text().startswith("March")
    calendar.locator(".dayContainer").first.locator(
        ".flatpickr-day:not(.hidden):not(.prevMonthDay):not(.nextMonthDay)",
        has_text=re.compile("^10$"),
    ).click()
    calendar.locator(".dayContainer").first.locator(
        ".flatpickr-day:not(.hidden):not(.prevMonthDay):not(.nextMonthDay)",
        has_text=re.compile("^12$"),
    ).click()
    page.wait_for_url(re.compile(r"created_from=2025-03-10&created_to=2025-03-12"))
    assert query(page)["created_to"] == "2025-03-12"
    page.click("#f-created-clear")
    page.wait_for_url(lambda url: "created_from" not in url)
    wait_count(page, "42 tasks")


def test_api_errors_are_shown_and_empty_results_say_so(page, world):
    page.goto(page.base + "/admin/data-explorer?rating_min=4&rating_max=2")
    page.wait_for_selector("#explorer-error:not([hidden])")
    assert "rating_min" in page.inner_text("#explorer-error")
    page.goto(page.base + "/admin/data-explorer?search=nothing-matches")
    page.wait_for_selector("#empty-state:not([hidden])")
    assert page.inner_text("#result-count") == "0 tasks"
