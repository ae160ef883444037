"""Who may see the explorer: staff only; anonymous callers are told to log in."""

import pytest

ENDPOINTS = ["/api/admin/data", "/api/admin/data/export?format=csv"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_anonymous_gets_401_with_a_challenge(client, db, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Session")


@pytest.mark.parametrize("url", ENDPOINTS)
def test_logged_in_non_staff_gets_403(plain_client, url):
    assert plain_client.get(url).status_code == 403


@pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning")
@pytest.mark.parametrize("url", ENDPOINTS)
def test_staff_gets_200(staff_client, world, url):
    response = staff_client.get(url)
    assert response.status_code == 200
    if response.streaming:
        b"".join(response)


def test_page_redirects_anonymous_to_admin_login(client, db):
    response = client.get("/admin/data-explorer")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/data-explorer")


def test_page_redirects_non_staff_to_login(plain_client):
    response = plain_client.get("/admin/data-explorer")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_page_renders_for_staff_in_the_admin_look(staff_client):
    response = staff_client.get("/admin/data-explorer")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="site-name"' in html  # the admin header from admin/base_site.html
    assert "admin_explorer/explorer.js" in html and 'type="module"' in html
    assert "vendor/flatpickr/flatpickr.min.js" in html
    assert 'id="explorer-config"' in html and '"data": "/api/admin/data"' in html
    for status in ("pending", "in_progress", "submitted", "in_review", "approved", "rejected"):
        assert f'value="{status}"' in html


def test_admin_index_links_to_the_explorer(staff_client):
    html = staff_client.get("/admin/").content.decode()
    assert 'href="/admin/data-explorer"' in html
    assert "Data Explorer" in html


def test_unsafe_methods_need_csrf(db):
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.create_user("s", password="pw", is_staff=True))
    assert client.post("/api/admin/data").status_code == 403


def test_schema_describes_both_endpoints_and_their_parameters(staff_client):
    response = staff_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    listing = schema["paths"]["/api/admin/data"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {
        "project", "annotator", "tags", "tags_mode", "search", "status", "rating_min",
        "rating_max", "created_from", "created_to", "sort_by", "sort_dir", "page", "page_size",
    } <= names  # fmt: skip
    sort_by = next(p for p in listing["parameters"] if p["name"] == "sort_by")
    assert "annotator_name" in sort_by["schema"]["enum"]
    export = schema["paths"]["/api/admin/data/export"]["get"]
    assert {"format", "tags", "sort_by"} <= {p["name"] for p in export["parameters"]}
    counts = schema["paths"]["/api/admin/data/counts"]["get"]
    assert {"facet", "project", "annotator", "tags", "search"} <= {
        p["name"] for p in counts["parameters"]
    }
    views = schema["paths"]["/api/admin/views"]
    assert set(views) >= {"get", "post"} and {"201", "400"} <= set(views["post"]["responses"])
    assert {"204", "404"} <= set(schema["paths"]["/api/admin/views/{id}"]["delete"]["responses"])


@pytest.mark.parametrize("model", ["tag", "dataset", "annotator", "annotationtask"])
def test_admin_change_lists_render(client, world, model):
    from django.contrib.auth.models import User

    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    response = client.get(f"/admin/admin_explorer/{model}/")
    assert response.status_code == 200
    if model == "dataset":
        assert "audio, text" in response.content.decode()
