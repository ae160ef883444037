"""The recording's parts API: idempotent PUTs, the listing, completion, and what is refused."""

import json

import pytest
from django_tasks_db.models import DBTaskResult

from interviews import services as interview_services
from interviews.invitations import make_token
from interviews.models import Interview
from media_export import recording
from media_export.models import MediaExport

WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


def part_url(interview, segment, n, token=None):
    token = make_token(interview) if token is None else token
    return f"/api/interviews/{interview.pk}/recording/{segment}/parts/{n}?token={token}"


def put(client, interview, segment, n, data, token=None):
    return client.generic(
        "PUT", part_url(interview, segment, n, token), data, "application/octet-stream"
    )


def complete(client, interview, segment, body, token=None):
    token = make_token(interview) if token is None else token
    url = f"/api/interviews/{interview.pk}/recording/{segment}/complete?token={token}"
    return client.post(url, json.dumps(body), "application/json")


def listing(client, interview):
    url = f"/api/interviews/{interview.pk}/recording?token={make_token(interview)}"
    return client.get(url)


def code(response):
    return response.json()["error"]["code"]


def test_parts_are_stored_idempotently_and_listed(client, interview):
    assert put(client, interview, 0, 0, WEBM_HEAD + b"zero").status_code == 201
    assert put(client, interview, 0, 1, b"one").status_code == 201
    again = put(client, interview, 0, 1, b"one")
    assert again.status_code == 200 and again.json()["stored"] == "same"
    conflict = put(client, interview, 0, 1, b"ONE")
    assert conflict.status_code == 409 and code(conflict) == "part_conflict"
    assert put(client, interview, 1, 0, WEBM_HEAD + b"after reload").status_code == 201

    answer = listing(client, interview)
    assert answer.status_code == 200
    assert answer.json() == {
        "segments": [
            {"segment": 0, "parts": [0, 1], "bytes": len(WEBM_HEAD) + 4 + 3, "complete": False},
            {"segment": 1, "parts": [0], "bytes": len(WEBM_HEAD) + 12, "complete": False},
        ]
    }


def test_parts_live_in_storage_under_the_recordings_prefix(client, interview):
    from django.core.files.storage import default_storage

    put(client, interview, 2, 0, WEBM_HEAD)
    assert default_storage.exists(f"recordings/{interview.pk}/2/0.part")


def test_an_oversized_part_is_refused_before_its_body_is_read(client, interview, settings):
    settings.MAX_RECORDING_PART_BYTES = 1000
    response = put(client, interview, 0, 0, WEBM_HEAD + bytes(1000))
    assert response.status_code == 413 and code(response) == "too_large"
    assert recording.segments(interview.pk) == []


def test_a_first_part_that_is_not_video_is_refused(client, interview):
    response = put(client, interview, 0, 0, b"hello, not a video")
    assert response.status_code == 415
    assert put(client, interview, 0, 1, b"later parts are raw bytes").status_code == 201


@pytest.mark.parametrize("token", ["", "garbage.token"])
def test_a_wrong_token_is_refused(client, interview, token):
    assert put(client, interview, 0, 0, WEBM_HEAD, token=token).status_code == 403
    assert complete(client, interview, 0, {"parts": 1}, token=token).status_code == 403
    assert recording.segments(interview.pk) == []


def test_complete_names_the_missing_parts(client, interview):
    put(client, interview, 0, 0, WEBM_HEAD)
    put(client, interview, 0, 2, b"two")
    response = complete(client, interview, 0, {"parts": 4})
    assert response.status_code == 400 and code(response) == "missing_parts"
    assert "1, 3" in response.json()["error"]["message"]
    assert MediaExport.objects.filter(pk=interview.pk, video_upload="").count() <= 1


@pytest.mark.parametrize("body", [{}, {"parts": 0}, {"parts": "2"}, [1], {"parts": 10**9}])
def test_complete_wants_a_part_count(client, interview, body):
    response = complete(client, interview, 0, body)
    assert response.status_code == 400 and code(response) == "bad_request"


def test_complete_joins_the_parts_and_queues_the_export(client, interview, settings):
    parts = [WEBM_HEAD + b"a" * 10, b"b" * 20, b"c" * 5]
    for n, data in enumerate(parts):
        assert put(client, interview, 0, n, data).status_code == 201
    response = complete(client, interview, 0, {"parts": 3, "session_id": "sess-1"})
    assert response.status_code == 202
    assert response.json()["status_url"] == f"/api/interviews/{interview.pk}/export"
    stored = settings.UPLOADS_VIDEOS_DIR / f"{interview.pk}_upload.webm"
    assert stored.read_bytes() == b"".join(parts)
    export = MediaExport.objects.get(pk=interview.pk)
    assert export.status == "queued" and export.video_session_id == "sess-1"
    assert DBTaskResult.objects.get(id=export.task_id).args_kwargs["args"] == [interview.pk]
    assert listing(client, interview).json()["segments"][0]["complete"] is True
    # No temporary file is left next to the upload.
    assert sorted(p.name for p in settings.UPLOADS_VIDEOS_DIR.iterdir()) == [stored.name]


def test_a_finished_interviews_recording_cannot_be_replaced(client, interview):
    """After the interview ended and its recording was completed, the token changes nothing."""
    interview_services.start_interview(interview_id=interview.pk)
    interview_services.complete_interview(
        interview_id=interview.pk, end_reason=Interview.EndReason.CANDIDATE_ENDED
    )
    put(client, interview, 0, 0, WEBM_HEAD + b"real")
    assert complete(client, interview, 0, {"parts": 1}).status_code == 202

    replaced = put(client, interview, 0, 0, WEBM_HEAD + b"fake")
    assert replaced.status_code == 409 and code(replaced) == "recording_complete"
    added = put(client, interview, 1, 0, WEBM_HEAD + b"fake")
    assert added.status_code == 409
    again = complete(client, interview, 0, {"parts": 1})
    assert again.status_code == 409


def test_a_finished_interviews_video_cannot_be_replaced_by_the_old_upload(client, interview):
    from django.core.files.uploadedfile import SimpleUploadedFile

    interview_services.start_interview(interview_id=interview.pk)
    interview_services.complete_interview(
        interview_id=interview.pk, end_reason=Interview.EndReason.CANDIDATE_ENDED
    )
    put(client, interview, 0, 0, WEBM_HEAD + b"real")
    complete(client, interview, 0, {"parts": 1})
    data = {
        "interview_id": str(interview.pk),
        "token": make_token(interview),
        "file": SimpleUploadedFile("rec.webm", WEBM_HEAD + b"fake", "video/webm"),
    }
    response = client.post("/api/interviews/upload/video", data)
    assert response.status_code == 409 and code(response) == "recording_complete"


def test_wrong_methods_name_the_allowed_one(client, interview):
    assert client.get(part_url(interview, 0, 0))["Allow"] == "PUT"
    url = f"/api/interviews/{interview.pk}/recording/0/complete?token={make_token(interview)}"
    assert client.get(url)["Allow"] == "POST"
