import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.management import call_command
from django.urls import reverse

from interviews.invitations import (
    SALT,
    InvalidInvitation,
    interview_for_token,
    make_token,
    read_interview_id,
)
from interviews.models import Candidate, Interview, Job, TranscriptEntry
from realtime.protocol import ROUTING_PARAM

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def interview(db):
    job = Job.objects.create(title="Backend Engineer", questions=["Q1?", "Q2?"])
    candidate = Candidate.objects.create(name="Ada Lovelace", email="ada@example.com")
    return Interview.objects.create(job=job, candidate=candidate)


def test_token_round_trip(interview):
    token = make_token(interview)
    assert read_interview_id(token) == interview.pk
    assert interview_for_token(token) == interview


def test_candidate_page_renders_own_interview(client, interview):
    other = Interview.objects.create(
        job=Job.objects.create(title="Other Secret Job"),
        candidate=Candidate.objects.create(name="Someone Else", email="else@example.com"),
    )
    response = client.get(reverse("interviews:candidate", args=[make_token(interview)]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Backend Engineer" in body
    assert "Ada Lovelace" in body
    assert "interview/main.js" in body
    assert other.candidate.name not in body and other.job.title not in body
    # The page learns the websocket's routing parameter from the server, not a literal.
    assert response.context["client_config"]["urls"]["sessionRoutingParam"] == ROUTING_PARAM


def test_tampered_token_is_404(client, interview):
    token = make_token(interview)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    response = client.get(f"/interview/{tampered}/")
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_forged_payload_is_404(client, interview):
    forged = signing.dumps({"interview": interview.pk}, salt="some.other.salt")
    assert client.get(f"/interview/{forged}/").status_code == 404
    garbage = "not-a-token"
    assert client.get(f"/interview/{garbage}/").status_code == 404


def test_expired_token_is_404(client, interview, settings):
    token = make_token(interview)
    settings.INVITATION_MAX_AGE_SECONDS = 1
    time.sleep(2.1)
    with pytest.raises(InvalidInvitation, match="expired"):
        read_interview_id(token)
    response = client.get(f"/interview/{token}/")
    assert response.status_code == 404


def test_unknown_interview_is_404(client, db):
    token = signing.dumps({"interview": 999999}, salt=SALT, compress=True)
    assert client.get(f"/interview/{token}/").status_code == 404


def test_create_interview_command_prints_working_link(client, db, capsys):
    call_command(
        "create_interview",
        "--job",
        "Data Analyst",
        "--candidate-name",
        "Grace Hopper",
        "--candidate-email",
        "grace@example.com",
        "--question",
        "Why data?",
        "--base-url",
        "http://testserver",
    )
    link = capsys.readouterr().out.strip().splitlines()[-1]
    assert link.startswith("http://testserver/interview/")
    response = client.get(link.removeprefix("http://testserver"))
    assert response.status_code == 200
    assert "Data Analyst" in response.content.decode()
    interview = Interview.objects.get()
    assert interview.job.questions == ["Why data?"]
    # Idempotent: a second call reuses the open interview.
    call_command(
        "create_interview",
        "--job",
        "Data Analyst",
        "--candidate-name",
        "Grace Hopper",
        "--candidate-email",
        "grace@example.com",
    )
    assert Interview.objects.count() == 1


def test_create_interview_rejects_bad_email(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command(
            "create_interview", "--job", "X", "--candidate-name", "Y", "--candidate-email", "nope"
        )


def test_prepare_demo_is_idempotent(db, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    pwfile = tmp_path / "pw.txt"
    call_command("prepare_demo", "--password-file", str(pwfile))
    first = capsys.readouterr().out
    call_command("prepare_demo", "--password-file", str(pwfile))
    second = capsys.readouterr().out
    assert Interview.objects.count() == 1 and Job.objects.get().questions.__len__() == 3
    links = [
        read_interview_id(line.split("/interview/")[1].strip("/ "))
        for line in (first + second).splitlines()
        if "/interview/" in line
    ]
    assert len(links) == 2 and links[0] == links[1] == Interview.objects.get().pk
    assert first.split("Admin")[1] == second.split("Admin")[1]  # same password printed
    user = get_user_model().objects.get(username="admin")
    assert user.is_superuser and user.check_password(pwfile.read_text())


@pytest.fixture
def staff_client(client, db):
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123-secret")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", [Job, Candidate, Interview])
def test_admin_changelist_and_change_pages_render(staff_client, interview, model):
    TranscriptEntry.objects.create(interview=interview, role="interviewer", text="Hello!")
    name = model._meta.model_name
    obj = {Job: interview.job, Candidate: interview.candidate, Interview: interview}[model]
    assert staff_client.get(reverse(f"admin:interviews_{name}_changelist")).status_code == 200
    response = staff_client.get(reverse(f"admin:interviews_{name}_change", args=[obj.pk]))
    assert response.status_code == 200
    if model is Interview:
        assert "Hello!" in response.content.decode()
        assert "/interview/" in response.content.decode()
    assert staff_client.get(reverse(f"admin:interviews_{name}_add")).status_code == 200


def test_admin_search_and_filters(staff_client, interview):
    url = reverse("admin:interviews_interview_changelist")
    assert "Ada Lovelace" in staff_client.get(url, {"q": "ada@"}).content.decode()
    assert staff_client.get(url, {"status__exact": "invited"}).status_code == 200


def test_admin_action_shows_links(staff_client, interview):
    url = reverse("admin:interviews_interview_changelist")
    response = staff_client.post(
        url,
        {"action": "show_invitation_links", "_selected_action": [interview.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "http://testserver/interview/" in response.content.decode()


def _settings_probe(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "interviewsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_refuse_missing_secret_key_without_debug():
    result = _settings_probe({"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert _settings_probe({"DEBUG": "1"}).returncode == 0
    assert _settings_probe({"SECRET_KEY": "x" * 50}).returncode == 0


def test_static_module_is_served(client, db):
    response = client.get("/static/interview/main.js")
    assert response.status_code == 200
    assert "javascript" in response["Content-Type"]
