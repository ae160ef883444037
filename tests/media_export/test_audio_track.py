"""The MP4's AAC track encoded in chunks: the same sound, on the same samples, as one encode;
chunks reused only for identical audio; a running interview's minutes encoded ahead."""

import subprocess

import numpy as np
import pytest

from interviews import services as interview_services
from interviews.services import create_interview
from media_export import audio_track, ffmpeg, preencode, recording
from media_export.exporting import run_export
from media_export.models import MediaExport
from media_export.muxing import mux
from media_export.services import mix_interview

from .helpers import SR, SpoolBuilder, make_video, speechlike, write_wav

PCM_OUT = ["-f", "s16le", "-ac", "1", "-ar", str(SR), "pipe:1"]
START_TIME = ["-show_entries", "stream=start_time", "-of", "csv=p=0"]
SMALL_CHUNK_FRAMES = 40  # 1.7 s chunks, so a few seconds of audio makes several


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(audio_track, "CHUNK", audio_track.FRAME * SMALL_CHUNK_FRAMES)
    return audio_track.CHUNK


def decode(path, *args) -> np.ndarray:
    out = subprocess.run(
        ["ffmpeg", "-v", "error", *args, "-i", str(path), "-map", "0:a:0", *PCM_OUT],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").astype(np.float64)


def lag_of(signal: np.ndarray, reference: np.ndarray, at: int, span: int, search: int) -> int:
    window = signal[at : at + span]
    c = np.correlate(reference[at - search : at + span + search], window, "valid")
    return int(np.argmax(c)) - search


def snr_db(reference: np.ndarray, other: np.ndarray) -> float:
    n = min(len(reference), len(other))
    noise = ((reference[:n] - other[:n]) ** 2).sum()
    return float(10 * np.log10((reference[:n] ** 2).sum() / max(noise, 1.0)))


def test_chunked_track_sounds_like_one_encode_on_the_same_samples(tmp_path, small_chunks):
    voice = speechlike(9.3, seed=21)  # 6 chunks, the last one short
    wav = write_wav(tmp_path / "mixed.wav", voice)
    video = make_video(tmp_path / "v.mp4", wav, codec="h264", seconds=9.3)
    info = ffmpeg.probe(video)
    start = ffmpeg.first_frame_time(video, "video") or 0.0

    track = tmp_path / "track.aac"
    encoded = audio_track.encode_track(wav, track, tmp_path / "cache", workers=2)
    assert encoded == 6
    chunked = mux(
        video, track, tmp_path / "chunked.mp4", info=info, video_start=start,
        duration=info.duration, audio_is_aac=True,
    )  # fmt: skip
    single = mux(
        video, wav, tmp_path / "single.mp4", info=info, video_start=start, duration=info.duration
    )

    a, b, x = decode(single.path), decode(chunked.path), voice.astype(np.float64)
    assert abs(len(a) - len(b)) <= audio_track.FRAME
    # On the WAV's samples: sample 0 of the MP4's audio is sample 0 of the mix.
    for at in (SR, 4 * SR, 8 * SR):
        assert lag_of(b, x, at, SR // 2, 2048) == 0
        assert lag_of(a, x, at, SR // 2, 2048) == 0
    # The joins leave nothing audible: the track is all but one encode's.
    assert snr_db(a, b) > 55.0
    assert snr_db(x, b) > snr_db(x, a) - 0.1
    start_times = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", *START_TIME, str(chunked.path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert float(start_times) == pytest.approx(0.0, abs=1e-3)


def test_a_chunk_is_reused_only_for_identical_audio(tmp_path, small_chunks):
    voice = speechlike(9.3, seed=22)
    cache = tmp_path / "cache"
    first = tmp_path / "a.aac"
    assert audio_track.encode_track(write_wav(tmp_path / "a.wav", voice), first, cache) == 6
    again = tmp_path / "b.aac"
    assert audio_track.encode_track(write_wav(tmp_path / "b.wav", voice), again, cache) == 0
    assert again.read_bytes() == first.read_bytes()

    changed = voice.copy()
    middle_of_chunk_2 = 2 * audio_track.CHUNK + audio_track.CHUNK // 2
    changed[middle_of_chunk_2] += 1  # one sample, one LSB
    other = tmp_path / "c.aac"
    assert audio_track.encode_track(write_wav(tmp_path / "c.wav", changed), other, cache) == 1
    assert other.read_bytes() != first.read_bytes()


def test_an_empty_mix_is_refused(tmp_path):
    wav = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype="<i2"))
    with pytest.raises(ffmpeg.FFmpegError):
        audio_track.encode_track(wav, tmp_path / "x.aac", tmp_path / "cache")


@pytest.mark.django_db
def test_a_running_interview_is_encoded_ahead_and_the_end_reuses_it(
    tmp_path, small_chunks, settings, caplog
):
    settings.AUDIO_PREENCODE_SETTLE_SECONDS = 2.0
    settings.MIX_WAIT_SECONDS = 0
    interview, _ = create_interview(job_title="E", candidate_name="C", candidate_email="c@x.io")
    interview_services.start_interview(interview_id=interview.pk)
    seconds = 70.0  # the alignment window (60 s) and its margin must have arrived
    voice = speechlike(seconds, seed=23)
    builder = SpoolBuilder(interview.pk, "sess-ahead").rec(0.0).mic_stream(0.0, voice)
    video = make_video(
        tmp_path / "rec.mp4", write_wav(tmp_path / "v.wav", voice), codec="h264", seconds=seconds
    )
    data = video.read_bytes()
    size = -(-len(data) // 4)
    for n in range(4):
        recording.store_part(interview.pk, 0, n, data[n * size : (n + 1) * size])

    done = preencode.preencode(interview.pk)
    settled_chunks = int((seconds - 2.0) * SR - audio_track.PAD) // audio_track.CHUNK
    assert done == settled_chunks > 30
    assert preencode.preencode(interview.pk) == 0  # nothing new settled

    builder.end()
    interview_services.complete_interview(interview_id=interview.pk, end_reason="candidate_ended")
    from media_export.finalise import export_recording

    export_recording(interview, segment=0, session_id="sess-ahead")
    mix_interview(interview.pk)
    caplog.set_level("INFO", logger="media_export")
    assert run_export(interview.pk) == MediaExport.Status.DONE
    summary = [r.getMessage() for r in caplog.records if r.getMessage().startswith("AAC track")]
    total = -(-round(seconds * SR) // audio_track.CHUNK)
    assert summary == [
        f"AAC track: {total} chunks, {total - done} encoded now, {done} from the cache"
    ]
    assert not audio_track.cache_dir(interview.pk).exists()  # dropped after the export
