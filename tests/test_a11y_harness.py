"""The accessibility check finds what it is meant to find, and respects the page's CSP."""

import pytest

from tests import a11y
from tests.e2e.conftest import require_browser

pytestmark = pytest.mark.e2e

ARGS = ["--no-sandbox", "--disable-gpu", "--headless=new", "--disable-background-networking"]


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    chromium = require_browser()
    a11y.require_axe()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), args=ARGS)
        yield browser.new_page()
        browser.close()


def test_a_planted_violation_is_reported(page):
    page.set_content(
        "<html lang='en'><head><title>t</title></head><body><main>"
        "<img src='data:,'><button></button></main></body></html>"
    )
    found = {v["id"] for v in a11y.violations(page)}
    assert {"image-alt", "button-name"} <= found
    with pytest.raises(AssertionError, match="critical image-alt"):
        a11y.assert_accessible(page, "planted page")


def test_a_clean_page_passes_under_a_strict_csp(page):
    page.set_content(
        "<html lang='en'><head><title>t</title>"
        "<meta http-equiv='Content-Security-Policy' content=\"script-src 'none'\"></head>"
        "<body><main><h1>Hello</h1><img src='data:,' alt='nothing'></main></body></html>"
    )
    a11y.assert_accessible(page, "clean page")
