"""AI usage per interview: counters from OpenAI's usage objects, totals, estimated cost."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from interviews import services, usage
from interviews.models import Candidate, Interview, Job, TranscriptEntry

RESPONSE_USAGE = {
    "total_tokens": 500,
    "input_tokens": 300,
    "output_tokens": 200,
    "input_token_details": {
        "text_tokens": 200,
        "audio_tokens": 100,
        "cached_tokens": 150,
        "cached_tokens_details": {"text_tokens": 120, "audio_tokens": 30},
    },
    "output_token_details": {"text_tokens": 40, "audio_tokens": 160},
}
TRANSCRIPTION_USAGE = {
    "type": "tokens",
    "input_tokens": 50,
    "output_tokens": 12,
    "total_tokens": 62,
    "input_token_details": {"audio_tokens": 50, "text_tokens": 0},
}
PRICES = {
    "text_input": 4.0,
    "cached_text_input": 0.4,
    "audio_input": 32.0,
    "cached_audio_input": 0.4,
    "text_output": 16.0,
    "audio_output": 64.0,
    "transcription_input": 3.0,
    "transcription_output": 5.0,
}


def test_counters_and_the_estimated_cost():
    total = usage.added({}, usage.from_response(RESPONSE_USAGE))
    total = usage.added(total, usage.from_transcription(TRANSCRIPTION_USAGE))
    total = usage.added(total, usage.from_transcription({"type": "duration", "seconds": 2.5}))
    assert total["responses"] == 1 and total["transcriptions"] == 2
    assert (total["text_input_tokens"], total["cached_text_input_tokens"]) == (200, 120)
    assert (total["audio_input_tokens"], total["cached_audio_input_tokens"]) == (100, 30)
    assert (total["text_output_tokens"], total["audio_output_tokens"]) == (40, 160)
    assert total["transcription_seconds"] == 2.5
    expected = (
        80 * 4.0 + 120 * 0.4 + 70 * 32.0 + 30 * 0.4 + 40 * 16.0 + 160 * 64.0 + 50 * 3.0 + 12 * 5.0
    ) / 1e6
    assert usage.estimated_cost(total, PRICES) == pytest.approx(expected)
    assert usage.estimated_cost({}, PRICES) == 0
    assert usage.from_response(None) == {} and usage.from_transcription("x") == {}


@pytest.fixture
def interview(db):
    job = Job.objects.create(title="Engineer")
    candidate = Candidate.objects.create(name="Ada", email="ada@example.com")
    return Interview.objects.create(job=job, candidate=candidate)


def test_usage_is_summed_on_the_interview_and_shown_with_its_cost(client, interview, settings):
    settings.OPENAI_PRICES = PRICES
    for _ in range(2):
        services.add_usage(interview_id=interview.pk, counters=usage.from_response(RESPONSE_USAGE))
    interview.refresh_from_db()
    assert interview.usage["responses"] == 2 and interview.usage["audio_output_tokens"] == 320
    user = get_user_model().objects.create_superuser("boss", "boss@example.com", "pw-123-secret")
    client.force_login(user)
    html = client.get(reverse("admin:interviews_interview_change", args=[interview.pk])).content
    cost = usage.estimated_cost(interview.usage, PRICES)
    assert f"${cost:.4f}" in html.decode() and "audio output tokens" in html.decode()


def test_entries_without_a_start_come_last(interview):
    late = TranscriptEntry.objects.create(interview=interview, role="candidate", text="b")
    early = TranscriptEntry.objects.create(
        interview=interview, role="interviewer", text="a", start_seconds=3.0
    )
    assert list(TranscriptEntry.objects.filter(interview=interview)) == [early, late]
