"""Hostile requests against a real daphne process, read back from its own output."""

import uuid

import pytest

from .live import live_server

BOUNDARY = "----hostile" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.fixture(scope="module")
def invitation(server) -> tuple[int, str]:
    line = server.shell(
        "from interviews.services import create_interview\n"
        "from interviews.invitations import make_token\n"
        "i, _ = create_interview(job_title='Eng', candidate_name='C', candidate_email='c@x.io')\n"
        "print(i.pk, make_token(i))"
    )
    pk, token = line.split()
    return int(pk), token


def multipart(fields: dict[str, str]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    ]
    file_part = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="r.webm"\r\n'
        "Content-Type: video/webm\r\n\r\n"
    )
    return (
        ("".join(parts) + file_part).encode()
        + b"\x1a\x45\xdf\xa3"
        + b"\0" * 100
        + (f"\r\n--{BOUNDARY}--\r\n".encode())
    )


def test_a_chunked_upload_is_told_the_length_is_required(server, invitation):
    pk, token = invitation
    body = multipart({"interview_id": str(pk), "token": token, "session_id": "s1"})
    chunks = iter([body[:100], body[100:]])
    status, _, reply = server.request(
        "POST",
        "/api/interviews/upload/video",
        body=chunks,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert status == 411, reply
    assert b"length_required" in reply


def test_the_same_upload_with_a_length_is_accepted(server, invitation):
    pk, token = invitation
    body = multipart({"interview_id": str(pk), "token": token, "session_id": "s1"})
    status, _, reply = server.request(
        "POST",
        "/api/interviews/upload/video",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"},
    )
    assert status == 202, reply


@pytest.mark.parametrize(
    "query",
    [
        "format=csv&project=99999999999999999999",
        "format=json&created_to=9999-12-31",
        "format=csv&created_from=0001-01-01T00:00:00%2B05:00",
    ],
)
def test_a_bad_export_is_a_prompt_400_not_a_stalled_200(server, query):
    status, headers, body = server.request(
        "GET", f"/api/admin/data/export?{query}", headers={"Cookie": f"sessionid={server.session}"},
        timeout=10,
    )  # fmt: skip
    assert status == 400, body
    assert headers["Content-Type"] == "application/json"


def test_invitation_tokens_never_reach_the_log(server, invitation):
    pk, token = invitation
    bogus = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    visits = [
        f"/interview/{token}/",
        f"/interview/{token}/?raw_audio=1",
        f"/interview/{bogus}/",
        f"/api/interviews/{pk}/export?token={token}",
        f"/api/interviews/{pk}/export?token={bogus}",
        f"/media/uploads/audio/{pk}_mic.wav?token={token}",
        f"/media/uploads/audio/{pk}_mic.wav?x=1&token={bogus}&y=2",
    ]
    for path in visits:
        server.request("GET", path)
    marker = f"/api/interviews/{pk}/export?after-visits"
    server.request("GET", marker)
    output = server.wait_for_output("after-visits")
    assert token not in output and bogus not in output
    # The requests are still logged, with the token replaced.
    assert '"GET /interview/[redacted]/" 200' in output, output
    assert '"GET /interview/[redacted]/?raw_audio=1" 200' in output
    assert "token=[redacted]" in output
    assert "x=1&token=[redacted]&y=2" in output


def test_the_server_survives_and_still_reports_errors(server):
    """After all of the above, a plain request still gets its answer."""
    status, _, _ = server.request(
        "GET", "/api/admin/data", headers={"Cookie": f"sessionid={server.session}"}
    )
    assert status == 200
