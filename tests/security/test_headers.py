"""Production headers: a Content-Security-Policy without inline code, no caching of
token-bearing answers, and pages that need nothing inline to work."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from interviews.invitations import make_token
from interviews.services import create_interview
from media_export.models import MediaExport

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def interview(db):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    return interview


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def recorded(interview, settings):
    """An interview with WAVs, an MP4 and a timeline, as the admin shows it after an export."""
    audio = {name: f"uploads/audio/{interview.pk}_{name}.wav" for name in ("mic", "ai", "mixed")}
    type(interview).objects.filter(pk=interview.pk).update(
        audio_paths=audio, video_url=f"/media/uploads/videos/{interview.pk}.mp4"
    )
    MediaExport.objects.create(
        interview=interview,
        status="failed",
        error="probing failed: broken",
        timeline={
            "duration": 10.0,
            "mic": [[1.0, 2.0]],
            "ai": [[2.5, 4.0]],
            "cuts": [3.0],
            "turns": [{"mic_end": 2.0, "ai_start": 2.5, "latency_ms": 500}],
            "missing_telemetry": 0,
            "snapped": 1,
            "dropped_after_cut": 0,
        },
    )
    return interview


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split() for part in header.split(";") if part.strip()]
    return {d[0]: d[1:] for d in directives}


def assert_strict(csp: dict) -> None:
    for directive in ("script-src", "style-src"):
        sources = csp.get(directive, csp.get("default-src"))
        assert sources is not None
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, csp
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'none'"]


def test_candidate_page_has_a_strict_policy_and_is_never_cached(client, interview):
    response = client.get(f"/interview/{make_token(interview)}/")
    assert response.status_code == 200
    assert_strict(policy(response))
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_bad_invitation_page_is_not_cached_either(client, db):
    response = client.get("/interview/not-a-token/")
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def test_token_endpoints_are_never_cached(client, interview, settings):
    token = make_token(interview)
    MediaExport.objects.create(interview=interview, video_upload="uploads/videos/x.webm")
    status = client.get(f"/api/interviews/{interview.pk}/export?token={token}")
    assert status.status_code == 200 and "no-store" in status["Cache-Control"]
    denied = client.get(f"/api/interviews/{interview.pk}/export?token=bad")
    assert denied.status_code == 403 and "no-store" in denied["Cache-Control"]
    upload = client.post("/api/interviews/upload/video", {"interview_id": "x", "token": token})
    assert upload.status_code == 400 and "no-store" in upload["Cache-Control"]


@pytest.mark.parametrize("url", ["/admin/data-explorer", "/admin/", "/admin/login/"])
def test_staff_pages_have_the_same_policy(admin_client, url):
    assert_strict(policy(admin_client.get(url)))


def test_the_admin_interview_page_needs_nothing_inline(admin_client, recorded):
    response = admin_client.get(f"/admin/interviews/interview/{recorded.pk}/change/")
    assert response.status_code == 200
    assert_strict(policy(response))
    html = response.content.decode()
    assert "interview-timeline" in html and "<audio" in html
    assert_no_inline_code(html)


def test_the_candidate_and_explorer_pages_need_nothing_inline(client, admin_client, interview):
    for html in (
        client.get(f"/interview/{make_token(interview)}/").content.decode(),
        admin_client.get("/admin/data-explorer").content.decode(),
    ):
        assert_no_inline_code(html)


def assert_no_inline_code(html: str) -> None:
    """No inline script (JSON data blocks are data), no style element or attribute, no handler."""
    for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
        assert "src=" in attrs or 'type="application/json"' in attrs, attrs
        assert "src=" not in attrs or not body.strip()
    assert not re.search(r"<style[\s>]", html), "inline <style> element"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "javascript:" not in html


def test_templates_and_static_code_have_nothing_inline():
    for path in (ROOT / "templates").rglob("*.html"):
        assert_no_inline_code(path.read_text())
