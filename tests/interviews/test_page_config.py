"""The candidate page takes its URLs and protocol numbers from the server, never from a copy."""

import json
import re
from pathlib import Path

import pytest
from django.urls import resolve, reverse

from interviews.invitations import make_token
from interviews.models import Candidate, Interview, Job, TranscriptEntry
from media_export import views as media_views
from realtime import protocol
from realtime.routing import websocket_urlpatterns

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "static" / "interview").glob("*.js"))


@pytest.fixture
def interview(db):
    job = Job.objects.create(title="Backend Engineer", questions=["Q1?", "Q2?"])
    candidate = Candidate.objects.create(name="Ada Lovelace", email="ada@example.com")
    return Interview.objects.create(job=job, candidate=candidate)


def page_config(client, interview) -> dict:
    response = client.get(reverse("interviews:candidate", args=[make_token(interview)]))
    assert response.status_code == 200
    found = re.search(
        r'<script id="interview-config" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert found, "the page must carry its config as JSON"
    return json.loads(found.group(1))


def test_page_config_points_at_the_real_endpoints(client, interview):
    config = page_config(client, interview)
    assert resolve(config["urls"]["upload"]).func is media_views.upload_video
    session_routes = [str(p.pattern) for p in websocket_urlpatterns]
    assert config["urls"]["session"].lstrip("/") in session_routes
    assert config["audio"] == {"sampleRate": protocol.SAMPLE_RATE, "chunkMs": protocol.CHUNK_MS}
    assert config["interviewId"] == interview.pk
    assert config["status"] == "invited"
    assert set(config["finishedStatuses"]) == {"completed", "exported", "failed"}


def test_page_config_carries_the_close_codes_the_server_uses(client, interview):
    codes = page_config(client, interview)["closeCodes"]
    assert codes["unauthorized"] == protocol.CLOSE_UNAUTHORIZED
    assert codes["finished"] == protocol.CLOSE_FINISHED
    assert codes["superseded"] == protocol.CLOSE_SUPERSEDED
    assert codes["providerUnavailable"] == protocol.CLOSE_PROVIDER_UNAVAILABLE
    # A provider outage is worth another try; a refusal or a finished interview is not.
    assert protocol.CLOSE_PROVIDER_UNAVAILABLE not in codes["final"]
    assert set(codes["final"]) >= {protocol.CLOSE_UNAUTHORIZED, protocol.CLOSE_FINISHED}


def test_scripts_hold_no_copy_of_a_server_value():
    """Close codes, the sample rate and the endpoints' paths appear only in the config."""
    server_values = {
        str(protocol.SAMPLE_RATE),
        protocol.SESSION_PATH,
        reverse("media_export:upload_video"),
        *(str(code) for code in protocol.FINAL_CLOSE_CODES if code != protocol.CLOSE_NORMAL),
        str(protocol.CLOSE_PROVIDER_UNAVAILABLE),
    }
    assert SCRIPTS
    copies = []
    for script in SCRIPTS:
        for number, line in enumerate(script.read_text().splitlines(), 1):
            code = line.split("//", 1)[0]  # a comment may name a value; code must not
            copies += [f"{script.name}:{number}: {v}" for v in server_values if v in code]
    assert not copies, copies


def test_a_reload_mid_interview_gets_the_conversation_so_far(client, interview):
    assert page_config(client, interview)["transcript"] == []  # nothing before the start
    interview.status = Interview.Status.IN_PROGRESS
    interview.save()
    entries = [
        ("interviewer", "Hello, first question?", "", 0.5),
        ("candidate", "My answer.", "", 4.0),
        ("interviewer", "Second question?", "", 9.0),
        ("candidate", "[not transcribed]", TranscriptEntry.Flag.NOT_TRANSCRIBED, 12.0),
    ]
    for role, text, flag, start in entries:
        TranscriptEntry.objects.create(
            interview=interview, role=role, text=text, flag=flag, start_seconds=start
        )
    lines = page_config(client, interview)["transcript"]
    assert [line["role"] for line in lines] == [e[0] for e in entries]
    assert lines[1]["text"] == "My answer."
    # The staff's marker for missing words never reaches the candidate.
    assert "not transcribed" not in lines[3]["text"] and lines[3]["text"]
