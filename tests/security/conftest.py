"""Fixtures of the hostile-input suite: the explorer's small world and its clients."""

from tests.admin_explorer.conftest import plain_client, staff_client, world  # noqa: F401
