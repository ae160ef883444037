"""Saved views: each staff user lists, saves and deletes only their own named queries."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from admin_explorer.models import SavedView
from admin_explorer.saved_views import MAX_VIEWS_PER_USER

URL = "/api/admin/views"


def save(client, name, query=""):
    return client.post(URL, {"name": name, "query": query}, content_type="application/json")


def test_a_saved_view_is_listed_with_the_page_url_that_opens_it(staff_client, world):
    response = save(
        staff_client,
        "  Quinn's   reviews ",
        "?annotator=3&status=in_review&columns=task_name,status",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Quinn's reviews"  # spaces tidied
    assert body["query"] == "annotator=3&status=in_review&columns=task_name,status"
    assert (
        body["url"] == "/admin/data-explorer?annotator=3&status=in_review&columns=task_name,status"
    )
    listed = staff_client.get(URL).json()
    assert [v["name"] for v in listed] == ["Quinn's reviews"]
    assert save(staff_client, "Everything").json()["url"] == "/admin/data-explorer"


def test_views_are_private_to_their_owner(staff_client, world):
    mine = save(staff_client, "Mine", "search=lynx").json()
    other = Client()
    other.force_login(User.objects.create_user("other", password="pw", is_staff=True))
    assert other.get(URL).json() == []
    assert other.delete(f"{URL}/{mine['id']}").status_code == 404
    assert SavedView.objects.filter(pk=mine["id"]).exists()
    # The same name is free for someone else.
    assert save(other, "Mine", "search=lynx").status_code == 201
    assert staff_client.delete(f"{URL}/{mine['id']}").status_code == 204
    assert staff_client.get(URL).json() == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("rating_min=4&rating_max=2", "rating_min"),
        ("sort_by=nope", "sort_by"),
        ("columns=task_name,secret", "columns"),
        ("colour=blue", "colour"),
    ],
)
def test_a_query_the_page_cannot_open_is_refused_with_its_reason(staff_client, world, query, field):
    response = save(staff_client, "Bad", query)
    assert response.status_code == 400
    messages = response.json()["query"]
    assert any(message.startswith(f"{field}:") for message in messages), messages
    assert not SavedView.objects.exists()


def test_names_must_be_given_and_unique_per_user(staff_client, world):
    assert save(staff_client, "Weekly", "status=approved").status_code == 201
    again = save(staff_client, "Weekly", "status=rejected")
    assert again.status_code == 400 and "already" in again.json()["name"][0]
    blank = save(staff_client, "   ")
    assert blank.status_code == 400 and "name" in blank.json()
    assert SavedView.objects.get().query == "status=approved"


def test_a_user_cannot_keep_more_than_the_limit(staff_client, world):
    owner = User.objects.get(username="staff")
    SavedView.objects.bulk_create(
        SavedView(owner=owner, name=f"v{i}") for i in range(MAX_VIEWS_PER_USER)
    )
    response = save(staff_client, "one more")
    assert response.status_code == 400 and "delete one" in response.json()["name"][0]


def test_only_staff_reach_saved_views(plain_client, db):
    assert Client().get(URL).status_code == 401
    assert plain_client.get(URL).status_code == 403
    assert save(plain_client, "x").status_code == 403


def test_saving_needs_the_csrf_token(db):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("s", password="pw", is_staff=True))
    assert save(client, "x").status_code == 403
