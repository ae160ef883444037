"""The production settings the README documents pass ``check --deploy``; the HTTPS flag
turns on Secure cookies, HSTS and the redirect."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: The README's production example (an HTTPS deployment behind a proxy that sets X-Forwarded-Proto).
PRODUCTION = {
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "interviews.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://interviews.example.com",
    "HTTPS": "1",
    "TRUST_X_FORWARDED_PROTO": "1",
    "TRUSTED_PROXY_COUNT": "1",
}


def manage(env: dict, *args: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "HTTPS", "SECURE_COOKIES"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "interviewsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = manage(PRODUCTION, "check", "--deploy", "--fail-level", "DEBUG")
    print(result.stdout, result.stderr)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


SETTINGS = (
    "import json\nfrom django.conf import settings as s\n"
    "print(json.dumps({k: getattr(s, k) for k in ("
    "'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS',"
    "'SECURE_PROXY_SSL_HEADER', 'SESSION_COOKIE_HTTPONLY', 'TRUSTED_PROXY_COUNT')}))"
)


@pytest.mark.parametrize(("https", "secure"), [("1", True), ("", False)])
def test_the_https_flag_switches_the_transport_settings(https, secure):
    env = {**PRODUCTION, "HTTPS": https}
    got = json.loads(manage(env, "shell", "-c", SETTINGS).stdout.strip().splitlines()[-1])
    assert got["SESSION_COOKIE_SECURE"] is secure
    assert got["CSRF_COOKIE_SECURE"] is secure
    assert got["SECURE_SSL_REDIRECT"] is secure
    assert (got["SECURE_HSTS_SECONDS"] >= 31536000) is secure
    assert got["SESSION_COOKIE_HTTPONLY"] is True
    assert (got["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]) is secure


def test_over_https_the_answer_carries_hsts_and_plain_http_is_redirected(client, settings, db):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    plain = client.get("/admin/login/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/admin/login/", secure=True)
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"].startswith("max-age=31536000")
