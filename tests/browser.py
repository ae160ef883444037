"""Browser-test helpers that work under the site's Content-Security-Policy.

Playwright's ``wait_for_function`` runs its predicate through ``eval`` inside the page,
which a policy without ``'unsafe-eval'`` refuses. ``page.evaluate`` goes through the
DevTools protocol instead, so the condition is polled from here, with a deadline.
"""

import time


def wait_until(page, predicate: str, arg=None, timeout: float = 30_000) -> None:
    """Poll ``page.evaluate(predicate, arg)`` until it is truthy; ``timeout`` in ms."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} ms waiting for {predicate}")
        time.sleep(0.05)


#: An init script (Playwright injects it outside the page's policy, before any page script)
#: that turns every policy violation into a console error a test can collect.
CSP_WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""


def csp_violations(lines: list[str]) -> list[str]:
    return [line for line in lines if "CSP violation" in line]
