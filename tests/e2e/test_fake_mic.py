"""The fake microphone file holds what its description says, where it says."""

import shutil

import numpy as np
import pytest

from tests.e2e import sync_analysis as sa
from tests.e2e.fake_mic import FILE_RATE, build_fake_mic

pytestmark = pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("ffmpeg")), reason="needs espeak-ng and ffmpeg"
)


def test_markers_and_speech_sit_where_the_description_says(tmp_path):
    plan = [("answer", 2.0, "I wrote the scheduler."), ("barge_in", 3.0, "Sorry, one thing.")]
    mic = build_fake_mic(tmp_path / "mic.wav", plan, duration=10.0)
    audio, rate = sa.read_wav(mic.path)
    assert rate == FILE_RATE and len(audio) == 10 * FILE_RATE
    found = sa.find_markers(audio, sa.chirp(FILE_RATE), sr=FILE_RATE, threshold=0.8)
    assert [f.seconds for f in found] == pytest.approx(mic.markers, abs=1 / FILE_RATE)
    assert len(found) == 4
    for cue in mic.cues:
        inside = audio[int(cue.start * FILE_RATE) : int(cue.end * FILE_RATE)]
        assert sa.rms(inside) > 0.02
    # Silence between utterances is digital silence, so the interviewer's VAD sees a clean gap.
    gap = audio[
        int((mic.cues[0].end + 0.5) * FILE_RATE) : int((mic.cues[1].start - 0.5) * FILE_RATE)
    ]
    assert gap.size and np.max(np.abs(gap)) == 0.0
    assert mic.cues[1].start == pytest.approx(mic.cues[0].end + 3.0)
    assert (tmp_path / "mic.json").exists()


def test_overlapping_cues_are_refused(tmp_path):
    plan = [("answer", 1.0, "A fairly long sentence."), ("answer", 0.5, "No.")]
    with pytest.raises(ValueError, match="overlaps"):
        build_fake_mic(tmp_path / "mic.wav", plan, duration=10.0)
