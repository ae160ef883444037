"""A whole interview in headless Chromium, and the sync of the MP4 it produces, measured.

The fake microphone plays a generated WAV: a device-check phrase, two answers and
one barge-in, each bracketed by chirp markers. The real server (daphne + the
export worker, offline interviewer) greets, asks, is interrupted, asks again and
says goodbye; the page uploads its recording and the export runs. Then the files
the product wrote are measured against the client's own log (see sync_checks.py)
and a sync report is printed, ending with one ``SYNC ...`` line.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from realtime.transcription.quality import word_error_rate
from tests.browser import CSP_WATCH, csp_violations, wait_until
from tests.e2e import sync_checks
from tests.e2e.conftest import ROOT
from tests.e2e.fake_mic import build_fake_mic
from tests.e2e.scenario import (
    Screens,
    check_devices_and_start,
    fetch,
    page_ready,
    phase,
    wait_for_export,
)
from tests.e2e.wire import WireLog

pytestmark = pytest.mark.e2e

QUESTIONS = [
    "Tell me about a system you built that had to keep two clocks in step.",
    "How did you test that the audio and the video stayed in sync?",
]
# (kind, seconds after the previous utterance ended, text). The interviewer's VAD
# ends a turn after ~0.95 s of silence and then answers within ~0.2 s; these gaps put
# the barge-in ~1.2 s into the second question (so it is cut early and asked again)
# and every answer after the interviewer's reply has finished.
PLAN = [
    ("device_check", 0.5, "Testing, one, two, three."),
    (
        "answer",
        14.0,
        "I built a recorder for live interviews. Every audio chunk carries a timestamp "
        "from the browser's own clock.",
    ),
    ("barge_in", 2.8, "Sorry, could you say that again?"),
    (
        "answer",
        10.0,
        "We compared the recording with the microphone stream and measured the offset "
        "with a cross correlation.",
    ),
]
FAKE_MIC_SECONDS = 100.0  # longer than the session (~55 s of it is used): Chromium loops the file
UPLOAD_BYTES_PER_SECOND = 1_000_000  # throttled so the progress bar can be seen
INTERVIEW_TIMEOUT = 120.0
EXPORT_TIMEOUT = 120.0
GOAL_MS = 20.0
MAX_CANDIDATE_WER = 0.25
# Words that belong to the machinery, never to what a candidate reads.
INTERNAL_WORDS = (
    "whisper",
    "speech-to-text",
    "transcription_",
    "does not transcribe",
    "offline interviewer",
    "of speech;",
    "not transcribed",
    "inaudible",
    "model",
)
CANDIDATE_LINES_JS = """() => [...document.querySelectorAll('#transcript li.candidate .text')]
  .map((node) => node.textContent)"""


# What the browser says its audio path adds beyond the scheduled times (not part of the
# protocol's clock: reported next to the measurements, not corrected for).
AUDIO_LATENCY_JS = """async () => {
  const ctx = new AudioContext({ sampleRate: 24000, latencyHint: "interactive" });
  await new Promise((r) => setTimeout(r, 300));
  const out = { base: ctx.baseLatency, output: ctx.outputLatency };
  await ctx.close();
  return out;
}"""


TIMELINE_FITS_JS = """() => {
  const svg = document.querySelector("#review-picture svg");
  if (!svg) return null;
  const row = svg.closest(".review-section") || svg.parentElement;
  return svg.getBoundingClientRect().right <= row.getBoundingClientRect().right + 1;
}"""


def run_interview(page, wire: WireLog, shots: Screens, mic, timings: dict) -> None:
    """Device check → Start → the conversation → the page's own end, upload and export."""
    check_devices_and_start(page, shots, mic, timings)

    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    mid_shot = upload_shot = throttled = False
    ended_by_test = False
    deadline = timings["start"] + INTERVIEW_TIMEOUT
    last_cue_end = mic.cues[-1].end
    while True:
        now = time.monotonic()
        current = phase(page)
        if not mid_shot and len(wire.interviewer_lines()) >= 2:
            shots.take("02-mid-interview")
            mid_shot = True
        if current in ("ending", "uploading") and not throttled:
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 0,
                    "downloadThroughput": -1,
                    "uploadThroughput": UPLOAD_BYTES_PER_SECOND,
                },
            )
            throttled = True
            timings["ending"] = now
        # Most of the recording went up during the interview: what is shown here is the
        # last part's progress, then the export's.
        if current == "uploading" and not upload_shot and page.is_visible("#upload-progress"):
            shots.take("03-upload-progress")
            upload_shot = True
            cdp.send(
                "Network.emulateNetworkConditions",
                {
                    "offline": False,
                    "latency": 0,
                    "downloadThroughput": -1,
                    "uploadThroughput": -1,
                },
            )
        if current in ("done", "upload_failed"):
            break
        # The interviewer ends the session itself after its goodbye. If it never does,
        # end from the page (and say so: the scenario did not go as scripted).
        session_clock = now - timings["start"]
        if current == "live" and session_clock > last_cue_end + 25 and not ended_by_test:
            page.click("#end")
            page.click("#end-confirm")  # ending asks first
            ended_by_test = True
        if now > deadline:
            raise AssertionError(
                f"interview did not finish in {INTERVIEW_TIMEOUT}s (phase {current})"
            )
        page.wait_for_timeout(100)
    timings["done"] = time.monotonic()
    timings["ended_by_test"] = ended_by_test
    timings["upload_screenshot"] = upload_shot
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    shots.take("04-done")


def admin_screens(context, server, shots: Screens, interview_id: int, superuser) -> dict:
    """Log in to the admin, photograph the interview page and the Data Explorer."""
    page = context.new_page()
    found = {}
    page.goto(f"{server.base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", superuser[0])
    page.fill("#id_password", superuser[1])
    page.click("input[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{server.base_url}/admin/interviews/interview/{interview_id}/change/")
    page.wait_for_load_state("networkidle")
    found["audio_players"] = page.locator("audio").count()
    found["video_players"] = page.locator("video").count()
    found["timeline_pictures"] = page.locator("#review-picture svg").count()
    # The picture must be seen whole: not wider than the row that holds it (which clips).
    found["timeline_fits"] = page.evaluate(TIMELINE_FITS_JS)
    shots.take("05-admin-interview", page=page)
    timeline = page.locator("#review-picture")
    if timeline.count():
        path = shots.folder / "05b-admin-timeline.png"
        timeline.first.screenshot(path=str(path))
        shots.taken.append(path.name)
    if (ROOT / "admin_explorer" / "management" / "commands" / "seed_explorer.py").exists():
        server.manage("seed_explorer", "--tasks", "400", "--if-empty")
    response = page.goto(f"{server.base_url}/admin/data-explorer")
    found["explorer_status"] = response.status if response else None
    if response and response.ok:
        page.wait_for_load_state("networkidle")
        found.update(explorer_filtered(page, shots))
        shots.take("06-data-explorer", page=page, full_page=False)
    page.close()
    return found


def explorer_filtered(page, shots=None) -> dict:
    """Filter the explorer by one status and open the date-range calendar."""
    done = {}
    wait_until(
        page,
        "!/Loading/.test(document.getElementById('result-count')?.textContent || 'Loading')",
        timeout=15_000,
    )
    done["unfiltered"] = page.inner_text("#result-count")
    if shots:
        shots.take("06a-data-explorer-full", page=page)
    chip = page.locator("label", has=page.get_by_role("checkbox", name="Approved"))
    if chip.count():
        chip.first.click()  # the styled label covers its checkbox
        wait_until(
            page,
            f"document.getElementById('result-count').textContent !== {json.dumps(done['unfiltered'])}",
            timeout=10_000,
        )
        done["filtered"] = page.inner_text("#result-count")
    created = page.locator("#f-created")
    if created.count():
        created.click()
        page.wait_for_timeout(500)
        done["calendar"] = True
    return done


def collect_files(server, interview_id: int, status: dict, artifacts: Path) -> dict[str, Path]:
    """The product's files for the interview, copied into the artifact folder."""
    media = server.media_root
    audio = media / "uploads" / "audio"
    files = {
        "mic_wav": audio / f"{interview_id}_mic.wav",
        "ai_wav": audio / f"{interview_id}_ai.wav",
        "mixed_wav": audio / f"{interview_id}_mixed.wav",
        "mp4": media / "uploads" / "videos" / f"{interview_id}.mp4",
    }
    upload_name = server.query(
        "from media_export.models import MediaExport\n"
        f"result = MediaExport.objects.get(interview_id={interview_id}).video_upload"
    )
    upload = Path(upload_name)
    files["upload"] = upload if upload.is_absolute() else media / upload
    for key, path in files.items():
        assert path.exists(), f"{key} missing: {path} (export status {status})"
        shutil.copy2(path, artifacts / path.name)
    return files


def test_full_interview_keeps_one_timeline(product_server, launch_browser, artifacts, superuser):
    began = time.monotonic()
    mic = build_fake_mic(artifacts / "fake_mic.wav", PLAN, FAKE_MIC_SECONDS)
    interview_id, link = product_server.create_interview(QUESTIONS, job="Platform engineer")
    token = link.rstrip("/").rsplit("/", 1)[-1]
    context = launch_browser(fake_audio=mic.path)
    # Every page of the scenario (candidate, admin, explorer) reports policy violations.
    context.add_init_script(CSP_WATCH)
    policy_errors: list[str] = []
    context.on("console", lambda msg: policy_errors.extend(csp_violations([msg.text])))
    page = context.new_page()
    wire = WireLog()
    page.on("websocket", wire.attach)
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    timings: dict = {}
    page.on(
        "response",
        lambda r: (
            timings.setdefault("uploaded", time.monotonic())
            if "/recording/" in r.url
            and r.url.split("?")[0].endswith("/complete")
            and r.status < 300
            else None
        ),
    )
    shots = Screens(page, artifacts)
    telemetry: dict = {}
    try:
        page.goto(f"{link}?raw_audio=1")
        run_interview(page, wire, shots, mic, timings)
        telemetry = page.evaluate("JSON.parse(JSON.stringify(window.interviewTelemetry))")
        candidate_view = {
            "lines": page.evaluate(CANDIDATE_LINES_JS),
            "text": page.inner_text("body"),
        }
        timings["audio_latency"] = page.evaluate(AUDIO_LATENCY_JS)
        upload_text = page.inner_text("#upload-status")
    except Exception:
        shots.take("failure")
        print("[e2e] browser console:\n" + "\n".join(console[-40:]))
        raise
    finally:
        (artifacts / "client_log.json").write_text(json.dumps(telemetry, indent=1))
        (artifacts / "wire_log.json").write_text(json.dumps(wire.summary(), indent=1, default=str))
        (artifacts / "browser_console.log").write_text("\n".join(console))
    assert not timings["ended_by_test"], "the interviewer never ended the session by itself"
    assert "uploaded" in timings, f"the upload never succeeded: {upload_text}"

    # The export: poll the status API until done (the page polls it too).
    status = wait_for_export(product_server, interview_id, token, EXPORT_TIMEOUT)
    ready_at = time.monotonic()
    assert status["status"] == "done", f"export ended as {status}"
    assert "Done" in upload_text, upload_text

    files = collect_files(product_server, interview_id, status, artifacts)
    db = product_server.query(
        "from interviews.models import Interview\n"
        "from media_export.models import MediaExport\n"
        f"i = Interview.objects.get(pk={interview_id})\n"
        "e = MediaExport.objects.filter(interview=i).first()\n"
        "result = {'status': i.status, 'video_url': i.video_url, 'audio_paths': i.audio_paths,\n"
        " 'latency': i.latency,\n"
        " 'transcript': list(i.transcript.values('role', 'text', 'start_seconds', 'end_seconds')),\n"
        " 'export': e and {'measured_offset': e.measured_offset, 'confidence': e.alignment_confidence,\n"
        "   'recording_started_offset': e.recording_started_offset, 'timeline_zero': e.timeline_zero,\n"
        "   'timeline_basis': e.timeline_basis, 'video_codec': e.video_codec,\n"
        "   'stretches': e.alignment_stretches}}"
    )
    admin = admin_screens(context, product_server, shots, interview_id, superuser)
    media_url = product_server.base_url + str(status.get("video_url") or "")
    served = fetch(f"{media_url}?token={token}")
    anonymous = fetch(media_url)

    m = sync_checks.measure(**files, telemetry=telemetry, wire=wire, fake_mic=mic)
    m.export_seconds = ready_at - timings["uploaded"]
    m.placement_counts = sync_checks.spool_counts(
        product_server.media_root / "spool" / str(interview_id)
    )
    m.product = {**m.product, **(db.get("export") or {}), "audio_latency": timings["audio_latency"]}
    (artifacts / "measurements.json").write_text(
        json.dumps(
            {**m.to_json(), "db": db, "admin": admin, "timings": timings}, indent=1, default=str
        )
    )
    text = sync_checks.report(m)
    (artifacts / "sync_report.txt").write_text(text.lstrip("\n") + "\n")
    print(text)
    print(
        f"[e2e] wall time {time.monotonic() - began:.1f} s; screenshots: {', '.join(shots.taken)}"
    )
    heard = [t["text"] for t in db["transcript"] if t["role"] == "candidate"]
    said = [c.text for c in mic.cues if c.kind in ("answer", "barge_in")]
    candidate_wer = word_error_rate(" ".join(said), " ".join(heard)) if heard else 1.0
    v2v = (db.get("latency") or {}).get("voice_to_voice_ms") or {}
    print(f"[e2e] candidate transcript WER {candidate_wer:.1%}: {heard}")
    print(
        f"[e2e] voice-to-voice p50 {v2v.get('p50')} ms, p95 {v2v.get('p95')} ms, n {v2v.get('n')}"
    )

    failures = []

    def check(ok: bool, message: str) -> None:
        if not ok:
            failures.append(message)

    # 1. H.264 + AAC, and the MP4 is as long as what was recorded.
    check(m.codecs["mp4_video"] == ["h264"], f"MP4 video is {m.codecs['mp4_video']}")
    check(m.codecs["mp4_audio"] == ["aac"], f"MP4 audio is {m.codecs['mp4_audio']}")
    mp4_len, rec_len = m.durations["mp4"]["video_span"], m.durations["upload"]["video_span"]
    check(abs(mp4_len - rec_len) <= 0.5, f"MP4 lasts {mp4_len:.3f}s, the recording {rec_len:.3f}s")
    last_ai = m.durations.get("last_ai_end_on_video", 0.0)
    check(
        mp4_len >= last_ai - 0.05,
        f"MP4 ends at {mp4_len:.3f}s, before the goodbye ({last_ai:.3f}s)",
    )
    # 2. The recording's own audio and *_mic.wav line up.
    check(m.mic_offset.score > 0.5, f"mic correlation too weak ({m.mic_offset.score:.2f})")
    check(abs(m.mic_offset.ms) <= GOAL_MS, f"mic offset {m.mic_offset.ms:+.2f} ms")
    # 3. Every AI chunk sits in *_ai.wav where the client played it, on the true zero.
    check(
        m.video_zero_pairs >= 4,
        f"only {m.video_zero_pairs} markers paired for the video zero "
        f"(each marker against the zero, ms: {m.marker_residuals_ms})",
    )
    check(len(m.placed) >= 20, f"only {len(m.placed)} AI chunks could be placed")
    check(not m.missing, f"AI chunks not found near their place: {[c.seq for c in m.missing]}")
    stats = m.ai_stats()
    check(stats is not None and stats["max"] <= GOAL_MS, f"AI offsets {stats}")
    # 4. The barge-in happened, and nothing after its cut point is in the AI track.
    check(len(telemetry.get("interruptions", [])) >= 1, "no barge-in happened")
    check(len(m.unheard) >= 1, "no interrupted chunk to check")
    for u in m.unheard:
        check(u["peak_after_cut"] <= 2 / 32768, f"AI audio after the cut of seq {u['seq']}: {u}")
        check(u["checked_s"] > 0.5, f"too little audio after the cut to check: {u}")
        reaction = u.get("reaction_ms")
        check(
            reaction is not None and 0 < reaction < 1500,
            f"the cut did not follow the scripted barge-in utterance: {u}",
        )
    # 5. The MP4's audio is the mixed WAV, and sits like the recording's own audio.
    check(m.mixed_in_mp4.score > 0.9, f"MP4 audio differs from *_mixed.wav ({m.mixed_in_mp4})")
    check(abs(m.mixed_in_mp4.ms) <= 1.0, f"*_mixed.wav sits {m.mixed_in_mp4.ms:+.3f} ms in the MP4")
    check(
        abs(m.mp4_vs_upload.ms - m.mic_offset.ms) <= 1.0,
        f"MP4 vs recording {m.mp4_vs_upload.ms:+.2f} ms, check 2 {m.mic_offset.ms:+.2f} ms",
    )
    # 6. Transcript rows for every interviewer turn; the interview is exported.
    spoken = wire.interviewer_lines()
    stored = [t["text"] for t in db["transcript"] if t["role"] == "interviewer"]
    check(len(spoken) >= 4, f"interviewer turns on the wire: {spoken}")
    check(len(stored) == len(spoken), f"{len(spoken)} interviewer turns, {len(stored)} rows")
    for line in spoken:
        # A cut turn is stored as far as it was heard; the page saw it as far as it was sent.
        check(
            any(line.startswith(row) or row.startswith(line) for row in stored),
            f"no transcript row for the interviewer turn {line!r}: {stored}",
        )
    for question in QUESTIONS:
        check(any(question in row for row in stored), f"question never asked in full: {question}")
    check(db["status"] == "exported", f"interview status {db['status']}")
    check(bool(db["video_url"]), "video_url not set")
    check(
        {"mic", "ai", "mixed"} <= set(db["audio_paths"] or {}),
        f"audio_paths {db['audio_paths']}",
    )
    check(status.get("video_url") and status.get("audio_paths"), f"export status {status}")
    check(
        served[0] == 200 and served[1] == files["mp4"].read_bytes(),
        f"video_url with the token did not serve the MP4 (HTTP {served[0]})",
    )
    check(anonymous[0] == 404, f"video_url without a token answered HTTP {anonymous[0]}")
    errors = wire.received_of("error")
    check(not errors, f"the server sent errors during a normal interview: {errors}")
    crashed = {k: v for k, v in product_server.alive().items() if v is not None}
    check(not crashed, f"server processes exited during the scenario: {crashed}")
    # The screenshots the report describes, and the admin page's promise.
    check(timings.get("upload_screenshot"), "upload progress was never visible")
    check(
        admin["audio_players"] >= 3,
        f"admin interview page has {admin['audio_players']} audio players",
    )
    check(admin["video_players"] >= 1, "admin interview page has no video player")
    check(admin["timeline_pictures"] >= 1, "admin interview page has no timeline picture")
    check(admin["timeline_fits"] is not False, "the admin timeline picture is clipped by its row")
    check(not policy_errors, f"Content-Security-Policy violations: {policy_errors}")
    # 7. The candidate was heard: their words are stored and shown, in their own words only.
    check(
        candidate_wer <= MAX_CANDIDATE_WER,
        f"candidate transcript WER {candidate_wer:.1%} (said {said}, stored {heard})",
    )
    for line in heard:
        check(line in candidate_view["lines"], f"stored line not shown to the candidate: {line!r}")
    page_text = candidate_view["text"].lower()
    leaked = [word for word in INTERNAL_WORDS if word in page_text]
    check(not leaked, f"the candidate page shows internal wording: {leaked}")
    assert not failures, "\n".join(failures)


def test_denied_microphone_shows_a_clear_message(product_server, launch_browser, artifacts):
    """Without the fake-UI flag Chromium denies the permission: the page must say what to do."""
    _, link = product_server.create_interview(
        ["Why this role?"], job="Support engineer", name="Bo Denied"
    )
    context = launch_browser(fake_audio=None, fake_ui=False)
    page = context.new_page()
    page.goto(link)
    page_ready(page)
    page.click("#check-devices")
    # The message may sit in the device status line or the error banner: it must be visible.
    message = page.locator("#device-status, #error-banner").filter(has_text="blocked").first
    try:
        message.wait_for(state="visible", timeout=15_000)
    finally:
        page.check("#consent")
        Screens(page, artifacts).take("07-mic-denied")
    text = message.inner_text()
    assert "microphone" in text.lower(), text
    assert "allow" in text.lower(), f"the message does not say how to fix it: {text}"
    assert page.is_disabled("#start"), "Start must stay disabled without devices"
