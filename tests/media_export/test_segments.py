"""One timeline across recording segments: a reload mid-interview, real FFmpeg end to end.

Two page loads: each recorded its own segment (uploaded in parts through the API) and
spooled its own session, both on the one interview clock, 3 s apart. The export must
place both segments in one MP4 with black between them and both sessions' audio under it.
"""

import json
import subprocess

import numpy as np
import pytest

from interviews.invitations import make_token
from interviews.models import Interview
from media_export import ffmpeg
from media_export.exporting import run_export
from media_export.mixing import read_wav
from media_export.models import MediaExport
from media_export.spool import read_session

from .helpers import (
    SR,
    SpoolBuilder,
    ffprobe_streams,
    make_video,
    speechlike,
    tone,
    write_wav,
)

Z0 = 10.0  # true client time of segment 0's first frame
SECONDS = 4.0  # each segment's video
GAP = 3.0  # the reload: no video for this long
Z1 = Z0 + SECONDS + GAP  # true client time of segment 1's first frame
REC_ERROR = 0.025  # recording_started is this far off
CLICK = round(2.0 * SR)  # a click 2 s into the second page's voice
FRAME = 1 / 25


INTERVIEW_STATUS = Interview.Status.COMPLETED  # see conftest.interview


def voice_with_click(seed):
    voice = speechlike(SECONDS - 0.5, seed=seed)
    voice[CLICK - 480 : CLICK + 480] = 0
    voice[CLICK : CLICK + 24] = 24000
    return voice


def put_parts(client, interview, segment, data, pieces=2):
    token = make_token(interview)
    size = -(-len(data) // pieces)
    for n in range(pieces):
        url = f"/api/interviews/{interview.pk}/recording/{segment}/parts/{n}?token={token}"
        body = data[n * size : (n + 1) * size]
        response = client.generic("PUT", url, body, "application/octet-stream")
        assert response.status_code == 201
    return pieces


def record_two_page_loads(tmp_path, client, interview, *, name_segments=True):
    """Segment 0 (page reloaded, never completed) and segment 1 (completed at the end)."""
    voices = [speechlike(SECONDS - 0.5, seed=3), voice_with_click(seed=4)]
    sizes = ["160x120", "320x240"]  # the second camera opened at another size
    videos = []
    for k, voice in enumerate(voices):
        wav = write_wav(tmp_path / f"voice{k}.wav", voice)
        videos.append(
            make_video(
                tmp_path / f"segment{k}.webm", wav, codec="vp8", seconds=SECONDS, size=sizes[k]
            )
        )
    spools = []
    for k, (zero, session_id) in enumerate(((Z0, "sess-a"), (Z1, "sess-b"))):
        builder = SpoolBuilder(interview.pk, session_id)
        builder.rec(zero + REC_ERROR, k if name_segments else None)
        builder.mic_stream(zero, voices[k])
        builder.ai(0, zero + 0.4, tone(600 + 200 * k, 0.3, amplitude=5000), played=zero + 0.5)
        builder.end() if k == 1 else builder.close()  # the first page was reloaded
        spools.append(read_session(builder.writer.directory))
    put_parts(client, interview, 0, videos[0].read_bytes())
    count = put_parts(client, interview, 1, videos[1].read_bytes())
    token = make_token(interview)
    url = f"/api/interviews/{interview.pk}/recording/1/complete?token={token}"
    body = json.dumps({"parts": count, "session_id": "sess-b"})
    assert client.post(url, body, "application/json").status_code == 202
    return videos, voices, spools


def frames(path):
    """Every video frame of ``path``: (presentation time, mean luma 0-255)."""
    entries = ["-show_entries", "frame=pts_time", "-of", "json"]
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", *entries, str(path)],
        capture_output=True,
        check=True,
    )
    times = [float(f["pts_time"]) for f in json.loads(probe.stdout)["frames"]]
    args = ["-v", "error", "-i", str(path), "-map", "0:v:0", "-vf", "scale=8:8,format=gray"]
    raw = ffmpeg.run([*args, "-fps_mode", "passthrough", "-f", "rawvideo", "-"], what="luma")
    luma = np.frombuffer(raw.stdout, dtype=np.uint8).reshape(-1, 64).mean(axis=1)
    assert len(luma) == len(times)
    return list(zip(times, luma.tolist(), strict=True))


def click_time(samples, around, window=0.05):
    lo = max(round((around - window) * SR), 0)
    hi = round((around + window) * SR)
    return (lo + int(np.argmax(np.abs(samples[lo:hi].astype(np.int32))))) / SR


@pytest.fixture(params=["system", "imageio-ffmpeg"])
def any_ffmpeg(request, settings):
    """The system FFmpeg 5 and the newer imageio-ffmpeg binary (no ffprobe) write frames
    differently at the end of a variable-rate stream: both must keep every frame."""
    if request.param == "imageio-ffmpeg":
        import imageio_ffmpeg

        settings.FFMPEG_BINARY = imageio_ffmpeg.get_ffmpeg_exe()
    ffmpeg._locate.cache_clear()
    yield request.param
    ffmpeg._locate.cache_clear()


def test_two_segments_land_on_one_timeline_with_black_between(
    tmp_path, client, interview, settings, any_ffmpeg
):
    settings.MIX_WAIT_SECONDS = 0
    videos, voices, spools = record_two_page_loads(tmp_path, client, interview)
    # What an earlier export of one segment found stays with that export, not this one.
    MediaExport.objects.filter(pk=interview.pk).update(alignment_stretches=[{"zero": 1.0}])
    assert run_export(interview.pk) == MediaExport.Status.DONE

    export = MediaExport.objects.get(pk=interview.pk)
    assert export.alignment_stretches == []
    first, second = export.segment_timeline
    assert (first["segment"], first["session_id"]) == (0, "sess-a")
    assert (second["segment"], second["session_id"]) == (1, "sess-b")
    assert first["alignment"] == second["alignment"] == "measured"
    assert first["start"] == 0.0 and first["end"] == pytest.approx(SECONDS, abs=0.05)
    assert second["start"] == pytest.approx(Z1 - Z0, abs=0.005)
    assert export.timeline_basis == "video"
    assert export.timeline_zero == pytest.approx(Z0, abs=0.005)

    out = settings.UPLOADS_VIDEOS_DIR / f"{interview.pk}.mp4"
    info = ffmpeg.probe(out)
    assert info.video_codec == "h264"
    end = Z1 - Z0 + SECONDS
    streams = {s["codec_type"]: s for s in ffprobe_streams(out)}
    assert float(streams["video"]["duration"]) == pytest.approx(end, abs=0.1)
    assert float(streams["audio"]["duration"]) == pytest.approx(end, abs=0.1)
    assert float(streams["video"]["start_time"]) == float(streams["audio"]["start_time"]) == 0.0
    assert info.duration == pytest.approx(end, abs=0.1)

    shown = frames(out)
    assert shown[0][0] == pytest.approx(0.0, abs=1e-3) and shown[0][1] > 40
    # Segment 1's first frame sits exactly where the export says, and within a frame of
    # where it really was on the interview clock.
    seg1 = next(t for t, luma in shown if t > first["end"] and luma > 40)
    assert seg1 == pytest.approx(second["start"], abs=0.001)
    assert abs(seg1 - (Z1 - Z0)) < FRAME
    gap = [luma for t, luma in shown if first["end"] + 0.01 < t < second["start"] - 0.01]
    assert len(gap) >= GAP * 5 - 2 and max(gap) < 20  # black frames fill the gap
    assert all(luma > 40 for t, luma in shown if t < first["end"] - 0.01 or t >= seg1)
    assert not [t for t, _ in shown if t > end + 0.01]
    # Every frame of both segments is there, none twice.
    assert len([t for t, _ in shown if t < first["end"]]) == len(frames(videos[0]))
    assert len([t for t, _ in shown if t >= seg1]) == len(frames(videos[1]))

    # Both sessions' audio, each chunk at its own client time on the one timeline.
    interview.refresh_from_db()
    wavs = {k: read_wav(settings.MEDIA_ROOT / interview.audio_paths[k]) for k in ("mic", "ai")}
    mixed = read_wav(settings.MEDIA_ROOT / interview.audio_paths["mixed"])
    zero = export.timeline_zero
    for spool in spools:
        pcm = np.fromfile(spool.mic_path, dtype="<i2")
        for chunk in spool.mic:
            at = round((chunk.timestamp - zero) * SR)
            expected = pcm[chunk.offset // 2 : chunk.offset // 2 + chunk.samples]
            head = max(-at, 0)  # audio before the first frame is dropped, never wrapped
            placed = wavs["mic"][at + head : at + chunk.samples]
            assert np.array_equal(placed, expected[head:])
    a_end = round((Z0 + len(voices[0]) / SR - zero) * SR)
    b_start = round((Z1 - zero) * SR)
    assert not wavs["mic"][a_end:b_start].any()
    for k, z in enumerate((Z0, Z1)):
        at = round((z + 0.5 - zero) * SR)
        expected = tone(600 + 200 * k, 0.3, amplitude=5000)
        assert np.array_equal(wavs["ai"][at : at + len(expected)], expected)
    assert np.array_equal(mixed, wavs["mic"].astype(np.int32) + wavs["ai"])  # under the knee
    assert len(mixed) >= round(end * SR) - SR // 10

    # A/V sync of segment 1: the click in its own video's audio and in the MP4's audio.
    src = ffmpeg.decode_audio(videos[1], SR)
    src_start = ffmpeg.first_frame_time(videos[1], "audio") - ffmpeg.first_frame_time(
        videos[1], "video"
    )
    in_video = click_time(src, CLICK / SR) + src_start  # from segment 1's first frame
    in_mp4 = click_time(ffmpeg.decode_audio(out, SR), seg1 + in_video)
    in_wav = click_time(mixed, seg1 + in_video)
    assert abs(in_mp4 - (seg1 + in_video)) < 0.003
    assert abs(in_wav - (seg1 + in_video)) < 0.003


def test_sessions_that_name_no_segment_pair_in_the_order_they_were_opened(
    tmp_path, client, interview, settings, caplog
):
    """Pages from before ``recording_started`` carried its segment: still one timeline."""
    settings.MIX_WAIT_SECONDS = 0
    record_two_page_loads(tmp_path, client, interview, name_segments=False)
    with caplog.at_level("INFO", logger="media_export"):
        assert run_export(interview.pk) == MediaExport.Status.DONE
    assert "Segment 1 is named by no session; paired with session sess-b" in caplog.text
    first, second = MediaExport.objects.get(pk=interview.pk).segment_timeline
    assert (first["session_id"], second["session_id"]) == ("sess-a", "sess-b")
    assert second["start"] == pytest.approx(Z1 - Z0, abs=0.005)
