"""Hostile calls to the interview endpoints, asserted by URL and status only."""

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from interviews.invitations import make_token
from interviews.services import create_interview

UPLOAD = "/api/interviews/upload/video"
WEBM_HEAD = b"\x1a\x45\xdf\xa3" + b"\x00" * 60


@pytest.fixture
def interview(db):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    return interview


@pytest.mark.parametrize("raw_id", ["9" * 5000, "²", "١٢", "0", "-1", str(2**63), " 1"])
def test_an_impossible_interview_id_is_a_400(client, interview, raw_id):
    data = {
        "interview_id": raw_id,
        "token": make_token(interview),
        "file": SimpleUploadedFile("rec.webm", WEBM_HEAD, "video/webm"),
    }
    response = client.post(UPLOAD, data)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("raw_id", ["99999999999999999999", str(2**63), "0", "9" * 5000])
def test_an_impossible_id_in_the_status_url_is_a_404(client, interview, raw_id):
    staff = User.objects.create_user("s", password="pw", is_staff=True)
    client.force_login(staff)
    assert client.get(f"/api/interviews/{raw_id}/export").status_code == 404


def test_a_wrong_method_names_the_allowed_one(client, db):
    response = client.get(UPLOAD)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


@pytest.mark.parametrize("header", ["bytes=" + "9" * 5000 + "-", "bytes=-" + "9" * 5000])
def test_an_absurd_range_is_not_a_500(client, interview, settings, header):
    path = settings.UPLOADS_AUDIO_DIR / f"{interview.pk}_mic.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF" + b"\0" * 60)
    url = f"/media/uploads/audio/{path.name}?token={make_token(interview)}"
    response = client.get(url, HTTP_RANGE=header)
    assert response.status_code in (200, 416)
    if response.status_code == 200:
        assert b"".join(response.streaming_content) == path.read_bytes()
