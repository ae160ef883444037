"""Finding a recording segment's place in an MP4 from its pictures, on synthetic files.

A "segment" is made (a moving test picture, VP8 in WebM as a browser records it) and an
"export" that shows other pictures, then black, then the segment from a planted second on,
transcoded to H.264. The measurement must find the planted place to the frame, tell a
missing segment from a found one, and see the black gap.
"""

import shutil
import subprocess

import numpy as np
import pytest

from tests.e2e import segment_checks as sc

pytestmark = pytest.mark.skipif(
    not (shutil.which("ffmpeg") and shutil.which("ffprobe")), reason="ffmpeg/ffprobe not installed"
)

PLANTED = 3.0  # seconds into the MP4 where the segment's first frame is put
SEGMENT_SECONDS = 4.0


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("segments")
    segment = folder / "segment.webm"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=320x180:rate=30:d={SEGMENT_SECONDS}",
        "-c:v",
        "libvpx",
        "-b:v",
        "1M",
        str(segment),
    )
    other = folder / "other.webm"
    ffmpeg(
        "-f", "lavfi", "-i", "smptebars=size=320x180:rate=30", "-t", "1.5", "-c:v", "libvpx",
        str(other),
    )  # fmt: skip
    mp4 = folder / "export.mp4"
    ffmpeg(
        "-i",
        str(other),
        "-f",
        "lavfi",
        "-i",
        "color=black:size=320x180:rate=30:d=1.5",
        "-i",
        str(segment),
        "-filter_complex",
        "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        str(mp4),
    )
    return segment, mp4


def test_a_segment_is_found_where_it_was_put(files):
    segment, mp4 = files
    mp4_times, mp4_frames = sc.grey_frames(mp4)
    times, frames = sc.grey_frames(segment)
    assert len(frames) == round(SEGMENT_SECONDS * 30)
    # Searched around a place 0.6 s off: the pictures still say where it is, to the frame.
    j, error, contrast = sc.locate_run(mp4_times, mp4_frames, frames[:15], PLANTED - 0.6)
    assert abs(mp4_times[j] - PLANTED) < 1 / 60, mp4_times[j]
    assert contrast < 0.2, (error, contrast)
    k, _, _ = sc.locate_run(mp4_times, mp4_frames, frames[-15:], PLANTED + times[-15])
    assert abs(mp4_times[k + 14] - (PLANTED + times[-1])) < 1 / 60


def test_a_segment_that_is_not_there_does_not_stand_out(files):
    segment, mp4 = files
    mp4_times, mp4_frames = sc.grey_frames(mp4)
    _, frames = sc.grey_frames(segment)
    # Around 0.5 s the MP4 shows other pictures: the best of them is no match.
    _, _, contrast = sc.locate_run(mp4_times, mp4_frames, frames[:15], 0.5)
    assert contrast > 0.5, contrast


def test_the_gap_is_black(files):
    _, mp4 = files
    mp4_times, mp4_frames = sc.grey_frames(mp4)
    luma = mp4_frames.mean(axis=(1, 2))
    gap = (mp4_times >= 1.55) & (mp4_times < 2.95)
    assert np.all(luma[gap] <= sc.BLACK_LUMA)
    assert np.all(luma[mp4_times < 1.45] > sc.BLACK_LUMA)


def test_parts_are_joined_up_to_the_first_hole(tmp_path):
    folder = tmp_path / "0"
    folder.mkdir()
    for n, data in ((0, b"ab"), (1, b"cd"), (3, b"gh")):
        (folder / f"{n}.part").write_bytes(data)
    joined = sc.join_parts(folder, tmp_path / "joined")
    assert joined.read_bytes() == b"abcd"
    assert joined.suffix == ".mp4"  # not a WebM header


def test_gaps_and_what_was_lost_at_the_reload():
    first = sc.SegmentMeasurements(segment=0, start=0.0, end=20.0)
    second = sc.SegmentMeasurements(segment=1, start=24.5, end=40.0)
    first.zeros = sc.sync_checks.Zeros([], [], 5.0, 4, 0.1, 1.0, 0.1)
    second.zeros = sc.sync_checks.Zeros([], [], 29.51, 4, 0.1, 1.0, 0.1)
    m = sc.Measurements(segments=[first, second], reload_at=25.7)
    assert m.gaps == [4.5]
    assert abs(m.timeline_error_ms(1) - (-10.0)) < 1e-6
    assert abs(m.lost_before_reload() - 0.7) < 1e-9
