"""Test-wide setup: a private MEDIA_ROOT per test and a DEBUG-free, explicit SECRET_KEY."""

import pytest


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.UPLOADS_AUDIO_DIR = media / "uploads" / "audio"
    settings.UPLOADS_VIDEOS_DIR = media / "uploads" / "videos"
    settings.SPOOL_DIR = media / "spool"
    return media
