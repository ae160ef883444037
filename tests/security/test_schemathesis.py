"""schemathesis against the running server: every described operation, generated requests
valid and invalid, a staff session; no failures and no server errors allowed.

The check ``positive_data_acceptance`` (every schema-valid request is accepted) is left
out on purpose: the explorer refuses, with a 400 naming the parameter, requests that are
well-formed but contradict themselves (``rating_min`` above ``rating_max``,
``created_from`` after ``created_to``, a page past the last one, a day like 2025-02-30),
rules OpenAPI cannot express. Every other check runs, ``not_a_server_error`` included.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SCHEMATHESIS_COUNTS
from .live import live_server

#: Examples per operation in the fuzzing phase (the coverage phase adds its own, bounded
#: by the schema); a fixed seed makes a failure reproducible.
MAX_EXAMPLES = 25
SEED = 14
CLI = Path(sys.executable).with_name("schemathesis")
CASES = re.compile(r"(\d+) generated, (\d+) passed")

DATA = """
from django.conf import settings
from interviews.invitations import make_token
from interviews.services import create_interview
from media_export.models import MediaExport
i, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
audio = settings.UPLOADS_AUDIO_DIR
audio.mkdir(parents=True, exist_ok=True)
(audio / f"{i.pk}_mic.wav").write_bytes(b"RIFF" + bytes(4000))
MediaExport.objects.update_or_create(
    interview=i, defaults={"video_upload": f"uploads/videos/{i.pk}_upload.webm"}
)
print(i.pk, make_token(i))
"""


def config(session: str, interview_id: int, token: str, media_path: str | None) -> str:
    """Authentication, and real ids, tokens and files offered half of the time."""
    media = f'"path.path" = "{media_path}"\n' if media_path else ""
    return f"""
[auth.openapi.cookieAuth]
api_key = "{session}"

[dictionaries.interview_ids]
values = [{interview_id}]
[dictionaries.tokens]
values = ["{token}"]

[parameters]
"path.interview_id" = {{ dictionary = "interview_ids", probability = 0.5 }}
"query.token" = {{ dictionary = "tokens", probability = 0.5 }}
{media}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server with 300 explorer tasks and one interview with a token and a WAV."""
    with live_server(tmp_path_factory.mktemp("schemathesis")) as server:
        seeded = server.shell(
            "from django.core.management import call_command\n"
            "call_command('seed_explorer', tasks=300, seed=1, verbosity=0)\nprint('seeded')"
        )
        assert seeded == "seeded"
        pk, server.token = server.shell(DATA).split()
        server.interview_id = int(pk)
        yield server


def run(server, workdir: Path, *, media_path: str | None = None, only: str = "") -> str:
    status, _, schema = server.request(
        "GET", "/api/schema/", headers={"Cookie": f"sessionid={server.session}"}
    )
    assert status == 200
    (workdir / "schema.yaml").write_bytes(schema)
    (workdir / "schemathesis.toml").write_text(
        config(server.session, server.interview_id, server.token, media_path)
    )
    args = [str(CLI), "--config-file", "schemathesis.toml", "run", "schema.yaml",
            "--url", server.url, "--checks", "all", "--exclude-checks", "positive_data_acceptance",
            "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", "1",
            "--no-color"]  # fmt: skip
    if only:
        args += ["--include-path-regex", only]
    result = subprocess.run(args, cwd=workdir, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    generated, passed = map(int, CASES.findall(output)[-1])
    assert generated == passed > 0
    SCHEMATHESIS_COUNTS.append(generated)
    return output


def test_every_operation_holds_to_its_description(server, tmp_path):
    output = run(server, tmp_path)
    assert re.search(r"Selected: (\d+)/\1\b", output)  # every described operation


def test_media_with_real_files_and_ranges(server, tmp_path):
    """The media path fuzzed above finds no file; here a real one, with and without its
    token and with generated Range headers (200, 206, 416, 404)."""
    media_path = f"uploads/audio/{server.interview_id}_mic.wav"
    output = run(server, tmp_path, media_path=media_path, only="^/media/")
    assert re.search(r"Selected: 1/\d+\b", output)
