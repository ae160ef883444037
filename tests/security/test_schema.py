"""/api/schema/: private to staff, and true to what the endpoints answer."""

import pytest
from django.test import Client

SCHEMA = "/api/schema/"
OPENAPI_JSON = {"HTTP_ACCEPT": "application/vnd.oai.openapi+json"}


@pytest.fixture
def schema(staff_client) -> dict:
    response = staff_client.get(SCHEMA, **OPENAPI_JSON)
    assert response.status_code == 200
    return response.json()


def test_anonymous_callers_get_no_schema(db):
    response = Client().get(SCHEMA, **OPENAPI_JSON)
    assert response.status_code == 401
    assert "paths" not in response.content.decode()


def test_non_staff_users_get_no_schema(plain_client):
    response = plain_client.get(SCHEMA, **OPENAPI_JSON)
    assert response.status_code == 403
    assert "paths" not in response.content.decode()


def test_every_api_endpoint_is_described(schema):
    assert set(schema["paths"]) == {
        "/api/admin/data",
        "/api/admin/data/export",
        "/api/admin/data/counts",
        "/api/admin/views",
        "/api/admin/views/{id}",
        "/api/interviews/upload/video",
        "/api/interviews/{interview_id}/export",
        "/api/interviews/{interview_id}/recording",
        "/api/interviews/{interview_id}/recording/{segment}/parts/{n}",
        "/api/interviews/{interview_id}/recording/{segment}/complete",
        "/media/{path}",
    }
    part = schema["paths"]["/api/interviews/{interview_id}/recording/{segment}/parts/{n}"]["put"]
    assert {"200", "201", "403", "409", "413"} <= set(part["responses"])
    upload = schema["paths"]["/api/interviews/upload/video"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["$ref"].endswith("/UploadForm")
    assert {"202", "400", "403", "404", "411", "413", "415"} <= set(upload["responses"])
    status = schema["paths"]["/api/interviews/{interview_id}/export"]["get"]
    assert {p["name"] for p in status["parameters"]} >= {"interview_id", "token"}
    media = schema["paths"]["/media/{path}"]["get"]
    assert {"200", "206", "404", "416"} <= set(media["responses"])


def test_the_list_response_is_the_object_the_api_returns(schema, staff_client, world):
    described = schema["paths"]["/api/admin/data"]["get"]["responses"]["200"]
    body = described["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ExplorerPage"}
    page = schema["components"]["schemas"]["ExplorerPage"]
    answer = staff_client.get("/api/admin/data").json()
    assert isinstance(answer, dict)
    assert set(page["required"]) == set(answer)


def test_a_400_body_has_the_described_shape(schema, staff_client, world):
    described = schema["paths"]["/api/admin/data"]["get"]["responses"]["400"]
    shape = described["content"]["application/json"]["schema"]
    body = staff_client.get("/api/admin/data", {"sort_dir": "up", "page": "x"}).json()
    assert shape["type"] == "object" and "properties" not in shape
    assert set(body) == {"sort_dir", "page"}
    item = shape["additionalProperties"]
    assert item["type"] == "array" and item["items"] == {"type": "string"}
    assert all(isinstance(m, str) for messages in body.values() for m in messages)
