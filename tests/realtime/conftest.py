import pytest
from asgiref.sync import sync_to_async

from interviews.invitations import make_token
from interviews.models import Candidate, Interview, Job
from realtime import session as session_module
from realtime.providers.local import LocalTiming
from realtime.providers.silero_vad import SileroConfig
from realtime.providers.vad import VadConfig

from . import sdk_events

QUESTIONS = ["What did you build last?", "How do you test your code?"]

# Production defaults, only faster: short hangover and a fast voice stream.
FAST_LOCAL = {
    "timing": LocalTiming(speed=40.0, lead_ms=300, min_answer_ms=400, barge_in_ms=300),
    "vad": VadConfig(silence_ms=400, calibration_ms=200),
    "silero": SileroConfig(silence_ms=400),
}


@pytest.fixture(autouse=True)
def _realtime_settings(settings):
    settings.REALTIME_PROVIDER = "local"
    settings.REALTIME_PROVIDER_OPTIONS = {"local": FAST_LOCAL}
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    settings.SESSION_RESUME_SECONDS = 60
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _sdk_valid_events():
    """Every event a fake Realtime server sent or received in the test matched the SDK."""
    sdk_events.VIOLATIONS.clear()
    yield
    problems, sdk_events.VIOLATIONS[:] = list(sdk_events.VIOLATIONS), []
    assert not problems, "events outside the OpenAI SDK's types:\n" + "\n".join(problems)


@pytest.fixture(autouse=True)
async def _close_sessions():
    yield
    for live in list(session_module.SESSIONS.values()):
        await live.hand_off()
    session_module.SESSIONS.clear()


@pytest.fixture
def mixing_requests(monkeypatch):
    calls = []
    monkeypatch.setattr(
        "media_export.services.request_mixing",
        lambda interview_id, session_id=None: calls.append((interview_id, session_id)),
    )
    return calls


def _make_interview(questions=QUESTIONS, status=Interview.Status.INVITED):
    job = Job.objects.create(
        title="Backend Engineer", questions=list(questions), interviewer_instructions="Be brief."
    )
    candidate = Candidate.objects.create(name="Ada Lovelace", email="ada@example.com")
    interview = Interview.objects.create(job=job, candidate=candidate, status=status)
    return interview, make_token(interview)


@pytest.fixture
def make_interview():
    return sync_to_async(_make_interview)
