"""Password guessing on the admin login is stopped: after a few failures even the right
password is refused for a while, with a clear answer."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser("boss", "boss@example.com", "right-password-1")


def attempt(client: Client, password: str):
    return client.post(LOGIN, {"username": "boss", "password": password})


def test_fifty_wrong_passwords_then_the_right_one_does_not_get_in(admin_user, settings):
    client = Client()
    answers = [attempt(client, f"wrong-{i}").status_code for i in range(50)]
    assert answers[0] == 200  # the login form again, with its error
    assert 429 in answers
    response = attempt(client, "right-password-1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "locked" in response.content.decode().lower()
    assert client.get("/admin/").status_code == 302  # still not logged in


def test_a_few_mistakes_then_the_right_password_work(admin_user):
    client = Client()
    for i in range(3):
        assert attempt(client, f"wrong-{i}").status_code == 200
    response = attempt(client, "right-password-1")
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_another_address_is_not_locked_out_by_someone_elses_guessing(admin_user):
    attacker = Client(REMOTE_ADDR="203.0.113.9")
    for i in range(10):
        attempt(attacker, f"wrong-{i}")
    assert attempt(attacker, "right-password-1").status_code == 429
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert attempt(owner, "right-password-1").status_code == 302


def test_behind_a_proxy_the_client_address_counts(admin_user, settings):
    """With TRUSTED_PROXY_COUNT the guesser is locked out, not everyone behind the proxy;
    an X-Forwarded-For entry the client wrote itself does not help it."""
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9")
    for i in range(10):
        attempt(attacker, f"wrong-{i}")
    spoofed = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="5.6.7.8, 203.0.113.9")
    assert attempt(spoofed, "right-password-1").status_code == 429
    owner = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert attempt(owner, "right-password-1").status_code == 302
