"""An export that fails answers with an error status when it can, and never leaves the
download hanging: a failure after the first rows ends the body visibly incomplete."""

import json

import pytest

from admin_explorer import export

pytestmark = pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume:Warning")


def failing_encoder(real, fail_on_chunk: int):
    def make(labels):
        encode = real(labels)
        calls = {"n": 0}

        def guarded(chunk):
            calls["n"] += 1
            if calls["n"] >= fail_on_chunk:
                raise ConnectionError("server closed the connection unexpectedly")
            return encode(chunk)

        return guarded

    return make


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_failure_before_the_first_row_is_a_500_not_a_200(staff_client, world, monkeypatch, fmt):
    name = "_csv_encoder" if fmt == "csv" else "_json_encoder"
    monkeypatch.setattr(export, name, failing_encoder(getattr(export, name), 1))
    staff_client.raise_request_exception = False
    response = staff_client.get("/api/admin/data/export", {"format": fmt})
    assert response.status_code == 500
    assert not response.streaming


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_failure_mid_download_ends_the_body_visibly(staff_client, world, monkeypatch, fmt):
    name = "_csv_encoder" if fmt == "csv" else "_json_encoder"
    monkeypatch.setattr(export, name, failing_encoder(getattr(export, name), 2))
    monkeypatch.setattr(export, "CHUNK_ROWS", 10)
    response = staff_client.get("/api/admin/data/export", {"format": fmt})
    assert response.status_code == 200
    body = b"".join(response).decode()  # ends instead of raising into the server
    if fmt == "json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
        assert body.startswith("[")
    else:
        lines = body.splitlines()
        assert len(lines) == 1 + 10 + 1
        assert lines[-1].startswith("EXPORT INCOMPLETE")
