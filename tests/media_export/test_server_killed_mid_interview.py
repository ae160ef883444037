"""The server is killed mid-interview and the browser never comes back: the interview still
ends up exported, with nobody running a command."""

import asyncio
import base64
import json
import subprocess
import sys
import time

import pytest

from tests.admin_explorer.daphne_server import ROOT
from tests.security.live import live_server

from .helpers import make_video, speechlike, write_wav

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="uses /proc and SIGKILL")


async def talk(port: int, interview_id: int, token: str, seconds: float) -> int:
    """Start a session and send the candidate's voice in real time; returns the chunks sent."""
    import websockets

    voice = speechlike(seconds, seed=4).astype("<i2").tobytes()
    chunk = 2400 * 2
    url = f"ws://127.0.0.1:{port}/ws/session"
    async with websockets.connect(url, origin="http://127.0.0.1") as ws:
        await ws.send(
            json.dumps(
                {
                    "event": "start",
                    "session_id": "killed-session",
                    "interview_id": interview_id,
                    "token": token,
                }
            )
        )
        while json.loads(await ws.recv()).get("event") != "session_ready":
            pass
        await ws.send(json.dumps({"event": "recording_started", "timestamp": 0.0}))
        began = time.monotonic()
        for seq, offset in enumerate(range(0, len(voice), chunk)):
            await asyncio.sleep(max(0.0, began + seq * 0.1 - time.monotonic()))
            piece = voice[offset : offset + chunk]
            message = {
                "event": "mic_chunk",
                "seq": seq,
                "timestamp": seq * 0.1,
                "audio_b64": base64.b64encode(piece).decode(),
            }
            await ws.send(json.dumps(message))
        await asyncio.sleep(0.5)  # let the server write the last chunks to the spool
        return seq + 1


def test_the_interview_is_exported_after_the_server_dies(tmp_path):
    with live_server(tmp_path, {"SESSION_RESUME_SECONDS": "1", "MIX_WAIT_SECONDS": "2"}) as server:
        created = server.shell(
            "from interviews.services import create_interview;"
            "from interviews.invitations import make_token;"
            "i, _ = create_interview(job_title='E', candidate_name='C', candidate_email='c@x.io');"
            "print(i.pk, make_token(i))"
        )
        interview_id, token = int(created.split()[0]), created.split()[1]
        sent = asyncio.run(talk(server.port, interview_id, token, seconds=3.0))
        assert sent == 30

        # The page uploaded the first parts of its recording before the crash.
        video = make_video(
            tmp_path / "rec.webm",
            write_wav(tmp_path / "v.wav", speechlike(3.0, seed=4)),
            codec="vp8",
            seconds=3.0,
        )
        data = video.read_bytes()
        half = len(data) // 2
        for n, piece in enumerate((data[:half], data[half:])):
            status, _h, body = server.request(
                "PUT",
                f"/api/interviews/{interview_id}/recording/0/parts/{n}?token={token}",
                body=piece,
                headers={"Content-Type": "application/octet-stream"},
            )
            assert status == 201, body

        server.proc.kill()  # the web process dies mid-interview; the browser never returns
        server.proc.wait()

        worker = subprocess.Popen(
            [sys.executable, "manage.py", "run_export_worker", "--no-startup-delay"],
            cwd=ROOT,
            env=server.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 300
            state = ""
            while state.split(":")[0] not in ("exported", "failed"):
                assert worker.poll() is None, worker.stderr.read().decode()
                assert time.monotonic() < deadline, f"interview stuck at {state}"
                time.sleep(1.0)
                state = server.shell(
                    "from interviews.models import Interview;"
                    f"i = Interview.objects.get(pk={interview_id});"
                    "print(f'{i.status}:{i.end_reason}:{i.failure_reason!r}')"
                )
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        assert state.startswith("exported:abandoned"), state
        mp4 = tmp_path / "media" / "uploads" / "videos" / f"{interview_id}.mp4"
        assert mp4.exists() and mp4.stat().st_size > 0
