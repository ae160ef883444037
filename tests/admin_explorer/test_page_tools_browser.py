"""The explorer's tools in headless Chromium: filter menus with counts, date presets and the
picker, the task panel, the column chooser, saved views, and axe-core with the picker open."""

import datetime as dt
import re
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from admin_explorer.models import AnnotationTask, SavedView
from tests import a11y
from tests.browser import wait_until

from .conftest import open_tab
from .test_page_browser import wait_count

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning"),
]
#: The last month the open picker shows (a plain label with two months, a menu with one).
LAST_MONTH_SHOWN = """() => {
  const month = [...document.querySelectorAll('.flatpickr-calendar.open .flatpickr-current-month')].pop();
  const menu = month.querySelector('select');
  return (menu ? menu.selectedOptions[0].textContent : month.querySelector('.cur-month').textContent).trim();
}"""
SCREENSHOTS = settings.BASE_DIR / "var" / "screenshots"


def params(tab) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(tab.url).query).items()}


def menu_counts(tab, menu: str) -> dict[str, int]:
    tab.click(f"#menu-{menu}-button")
    wait_until(tab, f"document.querySelector('#menu-{menu} .option-count')?.textContent > ''")
    labels = tab.locator(f"#menu-{menu} .option-label").all_inner_texts()
    counts = tab.locator(f"#menu-{menu} .option-count").all_inner_texts()
    return {label: int(count.replace(",", "")) for label, count in zip(labels, counts, strict=True)}


def test_filter_menus_show_counts_and_find_by_typing(page, world):
    page.goto(page.base + "/admin/data-explorer?status=approved,submitted")
    approved = [t for t in world.tasks if t.status in {"approved", "submitted"}]
    wait_count(page, f"{len(approved)} tasks")
    counts = menu_counts(page, "annotator")
    assert counts == Counter(t.annotator.name for t in approved) and len(counts) == 2
    # The whole list is visible: no name cut off, the panel inside the window.
    clipped = page.evaluate(
        """() => [...document.querySelectorAll('#menu-annotator .option-label')]
              .some(el => el.scrollWidth > el.clientWidth + 1)"""
    )
    assert not clipped
    box = page.locator("#menu-annotator").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1400

    # Type to find, Enter picks the first match: no Ctrl-click anywhere.
    page.fill("#menu-annotator .menu-find", "raff")
    assert page.locator("#menu-annotator .option-label").all_inner_texts() == ["Rafferty"]
    page.press("#menu-annotator .menu-find", "Enter")
    rafferty = world.annotators["Rafferty"].pk
    page.wait_for_url(re.compile(rf"annotator={rafferty}"))
    expected = sum(1 for t in approved if t.annotator.name == "Rafferty")
    wait_count(page, f"{expected} task" + ("" if expected == 1 else "s"))
    page.keyboard.press("Escape")
    assert page.inner_text("#menu-annotator-button") == "Rafferty"
    assert page.evaluate("document.activeElement.id") == "menu-annotator-button"

    # Another menu's counts follow the annotator choice.
    tags = menu_counts(page, "tags")
    chosen = [t for t in approved if t.annotator.name == "Rafferty"]
    assert tags == Counter(tag.name for t in chosen for tag in t.dataset.tags.all())


def test_a_row_opens_every_field_and_the_admin_page(page, world):
    page.goto(page.base + "/admin/data-explorer?sort_by=task_name&sort_dir=asc&page_size=25")
    wait_count(page, "42 tasks")
    first = min(world.tasks, key=lambda t: (t.name, t.pk))
    page.locator("#result-rows tr").first.locator("td.date").first.click()
    page.wait_for_selector("#task-panel:not([hidden])")
    assert page.inner_text("#task-panel-title") == first.name
    labels = page.locator("#task-panel-fields dt").all_inner_texts()
    assert labels == [
        "Task", "Status", "Rating", "Project", "Dataset", "Tags", "Annotator", "Created",
        "Updated", "Submitted", "Task id",
    ]  # fmt: skip
    field = lambda key: page.inner_text(f"#task-panel-fields dd[data-field={key}]")  # noqa: E731
    assert field("task_id") == str(first.pk)
    assert field("annotator_name") == first.annotator.name
    assert field("dataset_title") == first.dataset.title
    tags = sorted(t.name for t in first.dataset.tags.all())
    assert field("dataset_tags").split() == (tags or ["—"])
    href = page.get_attribute("#task-panel-admin", "href")
    assert href == f"/admin/admin_explorer/annotationtask/{first.pk}/change/"
    assert page.evaluate("document.activeElement.id") == "task-panel"
    page.keyboard.press("Escape")
    assert page.is_hidden("#task-panel")
    assert page.evaluate("document.activeElement.className") == "row-open"

    # The keyboard way in: the task name is a button; the link leads to the task's form.
    User.objects.filter(username="browser").update(is_superuser=True)
    second = sorted(world.tasks, key=lambda t: (t.name, t.pk))[1]
    page.locator("#result-rows .row-open").nth(1).press("Enter")
    page.wait_for_selector("#task-panel:not([hidden])")
    page.click("#task-panel-admin")
    page.wait_for_url(re.compile(rf"/annotationtask/{second.pk}/change/"))
    assert page.input_value("#id_name") == second.name


def test_saved_views_keep_filters_and_columns_and_open_by_url(page, world, live_server, chromium):
    page.goto(page.base + "/admin/data-explorer?status=approved")
    approved = sum(1 for t in world.tasks if t.status == "approved")
    wait_count(page, f"{approved} tasks")
    # Column chooser: hide Updated, show Submitted.
    page.click("#columns-button")
    page.uncheck("#columns-panel input[value=updated_at]")
    page.wait_for_url(re.compile(r"columns="))
    page.check("#columns-panel input[value=submitted_at]")
    wait_until(page, "!document.querySelector('th[data-column=submitted_at]').hidden")
    assert page.is_hidden("th[data-column=updated_at]")
    page.keyboard.press("Escape")
    cells = page.locator("#result-rows tr").first.locator("td").count()
    assert cells == page.locator("th[data-column]:visible").count()

    page.click("#views-button")
    page.fill("#view-name", "Approved, submitted")
    page.click("#view-save button[type=submit]")
    page.wait_for_selector("#views-list a")
    saved = SavedView.objects.get()
    assert saved.owner.username == "browser" and saved.name == "Approved, submitted"
    link = page.get_attribute("#views-list a", "href")
    assert link == f"/admin/data-explorer?{saved.query}"
    # Saving the same name again says why it cannot.
    page.fill("#view-name", "Approved, submitted")
    page.click("#view-save button[type=submit]")
    page.wait_for_selector("#view-error:not([hidden])")
    assert "already" in page.inner_text("#view-error")

    # A colleague opens the shared URL: the same filters and columns, their own (empty) list.
    other = open_tab(chromium, live_server.url, "colleague")
    other.goto(other.base + link)
    wait_count(other, f"{approved} tasks")
    assert other.is_checked("input[name=status][value=approved]")
    assert other.is_visible("th[data-column=submitted_at]")
    assert other.is_hidden("th[data-column=updated_at]")
    other.click("#views-button")
    other.wait_for_selector("#views-empty:not([hidden])")
    assert not other.errors

    # Reopening from the list; deleting it.
    page.goto(page.base + "/admin/data-explorer")
    wait_count(page, "42 tasks")
    page.click("#views-button")
    page.click("#views-list a")
    wait_count(page, f"{approved} tasks")
    assert params(page)["status"] == "approved"
    page.click("#views-button")
    page.click("#views-list .view-delete")
    page.wait_for_selector("#views-empty:not([hidden])")
    assert not SavedView.objects.exists()


def test_date_presets_and_a_picker_that_opens_on_the_data(page, world):
    page.goto(page.base + "/admin/data-explorer")
    wait_count(page, "42 tasks")
    # The newest task is from April 2025: the picker shows March and April 2025, not today.
    page.click("#f-created")
    calendar = page.locator(".flatpickr-calendar.open")
    months = calendar.locator(".flatpickr-current-month")
    assert months.first.locator(".cur-month").inner_text().strip() == "March"
    assert months.nth(1).locator(".cur-month").inner_text().strip() == "April"
    assert calendar.locator(".numInput.cur-year").first.input_value() == "2025"
    page.keyboard.press("Escape")

    # Presets count back from today. The test database is one shared in-memory SQLite, where
    # a write beside the server's still-running menu counts fails as "table is locked".
    page.wait_for_load_state("networkidle")
    AnnotationTask.objects.create(
        job=world.tasks[0].job,
        dataset=world.tasks[0].dataset,
        annotator=world.tasks[0].annotator,
        name="Fresh",
        created_at=timezone.now(),
    )
    today = page.evaluate(
        "() => { const d = new Date(); return [d.getFullYear(), d.getMonth() + 1, d.getDate()]; }"
    )
    today = dt.date(*today)
    page.click(".date-presets .preset[data-days='7']")
    page.wait_for_url(re.compile(r"created_from="))
    assert params(page) == {
        "created_from": (today - dt.timedelta(days=6)).isoformat(),
        "created_to": today.isoformat(),
    }
    wait_count(page, "1 task")
    assert page.get_attribute(".preset[data-days='7']", "aria-pressed") == "true"
    page.click(".date-presets .preset[data-quarter]")
    quarter_start = dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    page.wait_for_url(re.compile(rf"created_from={quarter_start.isoformat()}"))
    wait_count(page, "1 task")
    assert page.get_attribute(".preset[data-days='7']", "aria-pressed") == "false"
    page.click("#f-created-clear")
    wait_count(page, "43 tasks")


@pytest.mark.parametrize(("width", "height"), [(1440, 900), (390, 844)])
def test_axe_finds_nothing_serious_with_the_picker_menus_and_panel_open(
    live_server, world, transactional_db, chromium, width, height
):
    a11y.require_axe()
    tab = open_tab(chromium, live_server.url, "axe", viewport=(width, height))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = f"{width}x{height}"
    tab.goto(tab.base + "/admin/data-explorer?status=approved,submitted")
    wait_until(tab, "document.querySelectorAll('#result-rows tr').length > 0")
    a11y.assert_accessible(tab, "the explorer")
    tab.screenshot(path=str(SCREENSHOTS / f"explorer-{size}.png"), full_page=True)

    tab.click("#f-created")
    tab.wait_for_selector(".flatpickr-calendar.open")
    calendar = tab.locator(".flatpickr-calendar.open").bounding_box()
    assert calendar["x"] >= 0 and calendar["x"] + calendar["width"] <= width  # all in view
    newest = tab.evaluate(LAST_MONTH_SHOWN)
    assert newest == "April"  # the newest task's month is shown on a phone too
    # The picker fades in: judge its colours once the animation has ended, not mid-fade.
    tab.evaluate("Promise.all(document.getAnimations().map((a) => a.finished))")
    a11y.assert_accessible(tab, "the explorer with the date picker open")
    tab.screenshot(path=str(SCREENSHOTS / f"explorer-datepicker-{size}.png"))
    tab.keyboard.press("Escape")

    menu_counts(tab, "annotator")
    a11y.assert_accessible(tab, "the explorer with the annotator menu open")
    tab.screenshot(path=str(SCREENSHOTS / f"explorer-menu-{size}.png"))
    tab.keyboard.press("Escape")

    tab.locator("#result-rows .row-open").first.click()
    tab.wait_for_selector("#task-panel:not([hidden])")
    a11y.assert_accessible(tab, "the explorer with a task open")
    tab.screenshot(path=str(SCREENSHOTS / f"explorer-panel-{size}.png"))

    tab.click("#views-button")
    a11y.assert_accessible(tab, "the explorer with saved views open")
    tab.screenshot(path=str(SCREENSHOTS / f"explorer-views-{size}.png"))
    assert not tab.errors, tab.errors
