"""Outside CI a missing browser skips the e2e tests; under CI=true it fails them."""

from pathlib import Path

import pytest

from tests.e2e import conftest


def test_missing_chromium_skips_outside_ci(monkeypatch):
    monkeypatch.setattr(conftest, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium not found"):
        conftest.require_browser()


def test_missing_chromium_fails_under_ci(monkeypatch):
    monkeypatch.setattr(conftest, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but the browser tests cannot run"):
        conftest.require_browser()


def test_missing_tool_is_named(monkeypatch):
    monkeypatch.setattr(conftest, "CHROMIUM", Path(__file__))  # exists
    monkeypatch.setattr(
        conftest.shutil, "which", lambda name: None if name == "ffprobe" else "/bin/x"
    )
    assert conftest._browser_unavailable() == "ffprobe is not installed"
