"""Fixtures of the hostile-input suite: the explorer's small world and its clients."""

from tests.admin_explorer.conftest import plain_client, staff_client, world  # noqa: F401

#: How many requests each schemathesis run generated (printed at the end of the session).
SCHEMATHESIS_COUNTS: list[int] = []


def pytest_terminal_summary(terminalreporter):
    if SCHEMATHESIS_COUNTS:
        terminalreporter.write_line(
            f"schemathesis: {sum(SCHEMATHESIS_COUNTS)} generated requests in "
            f"{len(SCHEMATHESIS_COUNTS)} runs, all passed"
        )
