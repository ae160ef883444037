"""A whole interview in headless Chromium with one reload in the middle, and the MP4 measured.

The candidate answers the first question; then the page is reloaded. The reloaded page shows
the conversation so far and "Continue the interview"; the candidate checks the devices again
(the fake microphone's file starts again, with its test phrase) and continues. The page records
a new segment, after uploading what the old page had not sent yet from its outbox, and the
interview goes on to the interviewer's goodbye and the export. Then the final MP4 must hold
both segments on one timeline: each segment's video where its true zero puts it, the sync
checks of the single-segment scenario holding on each segment's span, the gap between them
measured, and segment 0's video reaching to within a second of the reload.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.browser import CSP_WATCH, csp_violations, wait_until
from tests.e2e import segment_checks
from tests.e2e.fake_mic import build_fake_mic
from tests.e2e.scenario import Screens, check_devices_and_start, page_ready, phase, wait_for_export
from tests.e2e.segment_checks import SegmentInput
from tests.e2e.wire import WireLog

pytestmark = pytest.mark.e2e

QUESTIONS = [
    "Tell me about a time a page reload cost a user their work.",
    "How would you make sure nothing recorded is lost?",
]
# The fake microphone's file starts again when a reloaded page opens the devices again, so
# the same file serves both page loads: its answer answers question 1 before the reload and
# question 2 after it. (The consent is forgotten before the reload, so the candidate checks the
# devices again and the test phrase is over before the interview goes on: with the consent
# remembered the page would go on at once, and the test phrase would land on the question.)
PLAN = [
    ("device_check", 0.5, "Testing, one, two, three."),
    (
        "answer",
        14.0,
        "The browser crashed while they were recording, and every second of it was gone.",
    ),
]
FAKE_MIC_SECONDS = 60.0
# Markers on their own in the silences, so each segment has several to find its true zero by
# (the recorder's audio now and then jumps 150 ms on a busy machine, and moves a marker).
EXTRA_MARKERS = (5.0, 7.5, 10.0, 12.5, 23.5, 26.0, 28.5, 31.0, 33.5, 36.0, 38.5, 41.0, 43.5, 46.0)
MIN_VIDEO_BEFORE_RELOAD = 12.0
RESUME_AFTER = 7.0  # seconds after the reloaded page's device check ("Continue" is pressed)  # seconds of recording before the page is reloaded
INTERVIEW_TIMEOUT = 180.0
EXPORT_TIMEOUT = 180.0
GOAL_MS = 20.0
# A segment's frames found in the MP4: the fake camera's clock band differs little (transcoding)
# and stands out from the rest of the searched window (the wrong frames differ by ~1200-1900).
MAX_MATCH_ERROR = 300.0
MAX_MATCH_CONTRAST = 0.3
MAX_LOST_AT_RELOAD = 1.0  # seconds: at most the piece being recorded at that instant
# As the old page goes away it reports where the interviewer's voice stood, and the server cuts the
# reply exactly there: only the AI chunk playing at that moment (100 ms) may be missing or partial
# in *_ai.wav, plus the error of placing the pagehide moment on the page's clock (a few ms).
RELOAD_CUT_SECONDS = 0.15

# The moment the old page went away, kept where the reloaded page can read it back.
PAGEHIDE_JS = """
window.addEventListener("pagehide", () => {
  try { sessionStorage.setItem("e2e-pagehide", String(Date.now())); } catch (err) {}
});
"""
CANDIDATE_FINAL_JS = """() => [...document.querySelectorAll('#transcript li.candidate')]
  .some((li) => !li.classList.contains('partial'))"""
TELEMETRY_JS = "JSON.parse(JSON.stringify(window.interviewTelemetry))"


def clock_at(telemetry: dict, wall_ms: float) -> float:
    """A wall-clock moment on the page's interview clock, from the client log's own pairs."""
    pairs = [e for e in telemetry.get("events", []) if e.get("t") is not None]
    last = pairs[-1]
    return float(last["t"]) + (wall_ms - float(last["wall"])) / 1000


def events_of(telemetry: dict, kind: str) -> list[dict]:
    return [e for e in telemetry.get("events", []) if e.get("type") == kind]


def until_reload_point(page, timings: dict) -> None:
    """The first answer is in (a final candidate line) and enough video was recorded."""
    deadline = timings["start"] + INTERVIEW_TIMEOUT
    while not (
        page.evaluate(CANDIDATE_FINAL_JS)
        and time.monotonic() - timings["start"] >= MIN_VIDEO_BEFORE_RELOAD
    ):
        assert time.monotonic() < deadline, "the first answer never made it into the conversation"
        page.wait_for_timeout(100)


def until_done(page, timings: dict) -> None:
    """The reloaded page goes on to the interviewer's goodbye, the upload and the export."""
    deadline = time.monotonic() + INTERVIEW_TIMEOUT
    while phase(page) not in ("done", "upload_failed"):
        assert time.monotonic() < deadline, f"the interview did not finish (phase {phase(page)})"
        page.wait_for_timeout(100)
    timings["done"] = time.monotonic()


def stored_segments(media_root: Path, interview_id: int) -> list[int]:
    folder = media_root / "recordings" / str(interview_id)
    return sorted(int(p.name) for p in folder.iterdir() if p.is_dir() and p.name.isdigit())


def test_a_reload_mid_interview_keeps_every_second_on_one_timeline(
    product_server, launch_browser, artifacts
):
    began = time.monotonic()
    mic = build_fake_mic(
        artifacts / "reload_fake_mic.wav", PLAN, FAKE_MIC_SECONDS, extra_markers=EXTRA_MARKERS
    )
    interview_id, link = product_server.create_interview(QUESTIONS, job="Reliability engineer")
    token = link.rstrip("/").rsplit("/", 1)[-1]
    context = launch_browser(fake_audio=mic.path)
    context.add_init_script(CSP_WATCH)
    context.add_init_script(PAGEHIDE_JS)
    policy_errors: list[str] = []
    context.on("console", lambda msg: policy_errors.extend(csp_violations([msg.text])))
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "leave this page?" on the reload
    wires = [WireLog()]  # one per page load: seqs and the clock's frames start again
    page.on("websocket", lambda ws: wires[-1].attach(ws))
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    shots = Screens(page, artifacts)
    timings: dict = {}
    telemetry: list[dict] = []
    try:
        page.goto(f"{link}?raw_audio=1")
        check_devices_and_start(page, shots, mic, timings, shot="reload-00-device-check")
        until_reload_point(page, timings)
        telemetry.append(page.evaluate(TELEMETRY_JS))
        shots.take("reload-01-before")
        wires.append(WireLog())
        page.evaluate(f"localStorage.removeItem('interview-consent:{interview_id}')")
        timings["reload"] = time.monotonic()
        page.reload()
        page_ready(page)
        assert page.inner_text("#start") == "Continue the interview"
        resumed: dict = {}
        # Chromium's fake camera starts its picture again too: a later Start keeps the new
        # segment's first pictures unlike the old one's, so each is found in the MP4 only once.
        check_devices_and_start(
            page, shots, mic, resumed, shot="reload-02-device-check", start_after=RESUME_AFTER
        )
        timings["resumed"] = resumed["start"]
        wait_until(page, "document.body.dataset.phase === 'live'", timeout=10_000)
        shots.take("reload-03-resumed")
        until_done(page, timings)
        telemetry.append(page.evaluate(TELEMETRY_JS))
        pagehide_wall = page.evaluate("Number(sessionStorage.getItem('e2e-pagehide'))")
        upload_text = page.inner_text("#upload-status")
        shots.take("reload-04-done")
    except Exception:
        shots.take("reload-failure")
        print("[e2e] browser console:\n" + "\n".join(console[-40:]))
        raise
    finally:
        (artifacts / "reload_client_log.json").write_text(json.dumps(telemetry, indent=1))
        (artifacts / "reload_wire_log.json").write_text(
            json.dumps([w.summary() for w in wires], indent=1, default=str)
        )
        (artifacts / "reload_browser_console.log").write_text("\n".join(console))

    status = wait_for_export(product_server, interview_id, token, EXPORT_TIMEOUT)
    assert status["status"] == "done", f"export ended as {status} ({upload_text})"
    media = product_server.media_root
    audio = media / "uploads" / "audio"
    files = {
        "mic_wav": audio / f"{interview_id}_mic.wav",
        "ai_wav": audio / f"{interview_id}_ai.wav",
        "mixed_wav": audio / f"{interview_id}_mixed.wav",
        "mp4": media / "uploads" / "videos" / f"{interview_id}.mp4",
    }
    for key, path in files.items():
        assert path.exists(), f"{key} missing: {path} (export status {status})"
        shutil.copy2(path, artifacts / f"reload_{path.name}")
    segments = stored_segments(media, interview_id)
    assert segments == [0, 1], f"segments stored: {segments}"
    inputs = []
    for k in segments:
        joined = segment_checks.join_parts(
            media / "recordings" / str(interview_id) / str(k),
            artifacts / f"reload_segment_{k}",
        )
        inputs.append(SegmentInput(k, joined, telemetry[k], wires[k]))
    db = product_server.query(
        "from interviews.models import Interview\n"
        "from media_export.models import MediaExport\n"
        f"i = Interview.objects.get(pk={interview_id})\n"
        "e = MediaExport.objects.filter(interview=i).first()\n"
        "result = {'status': i.status, 'transcript': list(i.transcript.values('role', 'text')),\n"
        " 'segments': e and getattr(e, 'segment_timeline', None)}"
    )

    m = segment_checks.measure(inputs=inputs, **files, fake_mic=mic)
    m.reload_at = clock_at(telemetry[0], pagehide_wall)
    m.product = {"segment_timeline": db.get("segments")}
    (artifacts / "reload_measurements.json").write_text(
        json.dumps({**m.to_json(), "db": db, "timings": timings}, indent=1, default=str)
    )
    text = segment_checks.report(m)
    with (artifacts / "sync_report.txt").open("a") as report:
        report.write(text.lstrip("\n") + "\n")
    print(text)
    print(f"[e2e] reload scenario wall time {time.monotonic() - began:.1f} s")

    failures = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            failures.append(message)

    # The page: segment numbers announced, the old page's leftovers sent by the new one.
    announced = [e.get("segment") for t in telemetry for e in events_of(t, "recording_announced")]
    check(announced == [0, 1], f"recording_started announced segments {announced}")
    sent = [msg.get("segment") for w in wires for msg in w.sent_of("recording_started")]
    check(sent == [0, 1], f"recording_started on the wire carried segments {sent}")
    leftovers = events_of(telemetry[1], "recording_leftovers")
    check(
        any(e.get("segment") == 0 and e.get("parts") for e in leftovers),
        f"the reloaded page sent no leftover part of segment 0: {leftovers}",
    )
    off = [e for t in telemetry for e in events_of(t, "recording_outbox_off")]
    check(not off, f"the recording outbox was off: {off}")
    # The MP4: both segments, in order, each as long as what was recorded, on one timeline.
    check(m.codecs["mp4_video"] == ["h264"], f"MP4 video is {m.codecs['mp4_video']}")
    check(m.codecs["mp4_audio"] == ["aac"], f"MP4 audio is {m.codecs['mp4_audio']}")
    check(m.mixed_in_mp4.score > 0.9, f"MP4 audio differs from *_mixed.wav ({m.mixed_in_mp4})")
    check(abs(m.mixed_in_mp4.ms) <= 1.0, f"*_mixed.wav sits {m.mixed_in_mp4.ms:+.3f} ms in the MP4")
    check(all(g >= 0 for g in m.gaps), f"the segments overlap in the MP4: gaps {m.gaps}")
    for k, seg in enumerate(m.segments):
        name = f"segment {seg.segment}"
        check(
            seg.match_error <= MAX_MATCH_ERROR and seg.match_contrast <= MAX_MATCH_CONTRAST,
            f"{name}'s pictures were not found in the MP4 where its true zero puts them "
            f"(best match: difference {seg.match_error:.0f}, {seg.match_contrast:.2f} of the "
            "window's median)",
        )
        check(
            abs((seg.end - seg.start) - seg.span) <= 0.5,
            f"{name} lasts {seg.end - seg.start:.3f} s in the MP4, {seg.span:.3f} s recorded",
        )
        check(
            abs(m.timeline_error_ms(k)) <= GOAL_MS,
            f"{name} sits {m.timeline_error_ms(k):+.2f} ms away from its true zero's place",
        )
        # The single-segment scenario's checks 2, 3 and 5 on this segment's span.
        check(seg.mic_offset.score > 0.5, f"{name}: mic correlation {seg.mic_offset.score:.2f}")
        check(abs(seg.mic_offset.ms) <= GOAL_MS, f"{name}: mic offset {seg.mic_offset.ms:+.2f} ms")
        check(
            abs(seg.mp4_vs_upload.ms - seg.mic_offset.ms) <= 1.0,
            f"{name}: MP4 vs recording {seg.mp4_vs_upload.ms:+.2f} ms, "
            f"mic {seg.mic_offset.ms:+.2f} ms",
        )
        check(seg.zeros.video_zero_pairs >= 4, f"{name}: {seg.zeros.video_zero_pairs} markers")
        placed = [c for c in seg.ai.chunks if c.offset_ms is not None]
        origin = seg.zeros.video_zero - seg.start  # client clock of the MP4's second 0
        cut_at_reload = [
            c.seq
            for c in seg.ai.chunks
            if c.offset_ms is None
            and k < len(m.segments) - 1
            and m.reload_at is not None
            and c.expected + origin >= m.reload_at - RELOAD_CUT_SECONDS
        ]
        if cut_at_reload:
            print(f"[e2e] {name}: AI chunks of the reload's last moments left out: {cut_at_reload}")
        missing = [
            c.seq for c in seg.ai.chunks if c.offset_ms is None and c.seq not in cut_at_reload
        ]
        check(len(placed) >= 10, f"{name}: only {len(placed)} AI chunks could be placed")
        check(not missing, f"{name}: AI chunks not found near their place: {missing}")
        stats = seg.ai_stats()
        check(stats is not None and stats["max"] <= GOAL_MS, f"{name}: AI offsets {stats}")
        for u in seg.ai.unheard:  # check 4, where a barge-in happened
            check(u["peak_after_cut"] <= 2 / 32768, f"{name}: AI audio after a cut: {u}")
    # Nothing recorded before the reload is lost (at most the piece being recorded then):
    # neither in what the server stored, nor in the MP4.
    stored_lost = m.lost_in_storage()
    check(
        stored_lost <= MAX_LOST_AT_RELOAD,
        f"the stored segment 0 ends {stored_lost:.3f} s before the reload",
    )
    lost = m.lost_before_reload()
    check(
        lost <= MAX_LOST_AT_RELOAD,
        f"segment 0 ends {lost:.3f} s before the reload in the MP4 (at most "
        f"{MAX_LOST_AT_RELOAD} s may be lost)",
    )
    # The interview itself.
    check(db["status"] == "exported", f"interview status {db['status']}")
    check("Done" in upload_text, upload_text)
    errors = [e for w in wires for e in w.received_of("error")]
    check(not errors, f"the server sent errors: {errors}")
    crashed = {k: v for k, v in product_server.alive().items() if v is not None}
    check(not crashed, f"server processes exited during the scenario: {crashed}")
    check(not policy_errors, f"Content-Security-Policy violations: {policy_errors}")
    assert not failures, "\n".join(failures)
