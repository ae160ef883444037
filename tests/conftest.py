"""Test-wide setup: a private MEDIA_ROOT per test and a DEBUG-free, explicit SECRET_KEY.

Speech-to-text is off unless a test turns it on: loading and running Whisper costs
seconds, and only the tests about transcripts need real words.
"""

import pytest


@pytest.fixture(autouse=True)
def _no_transcription(settings):
    settings.TRANSCRIPTION = "off"


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    media = tmp_path / "media"
    settings.MEDIA_ROOT = media
    settings.UPLOADS_AUDIO_DIR = media / "uploads" / "audio"
    settings.UPLOADS_VIDEOS_DIR = media / "uploads" / "videos"
    settings.SPOOL_DIR = media / "spool"
    return media
