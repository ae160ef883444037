"""``transcribe_interview``: candidate turns transcribed again from the spool."""

import io

import pytest
from asgiref.sync import sync_to_async
from django.core.management import CommandError, call_command

from interviews.models import TranscriptEntry
from realtime.transcription.quality import word_error_rate

from .helpers import Browser
from .test_transcription import ANSWERS, QUESTIONS, candidate_entries, speak

pytestmark = pytest.mark.django_db(transaction=True)


async def interview_without_transcripts(make_interview):
    """A finished interview whose candidate turns were stored as not transcribed."""
    interview, token = await make_interview(QUESTIONS[:2])
    browser = await Browser().connect()
    await browser.start(interview.pk, token)
    spoken = []
    for answer in ANSWERS[:2]:
        await browser.expect("transcript", role="interviewer")
        await browser.wait_ai_quiet()
        spoken.append(await speak(browser, answer))
    await browser.send({"event": "end"})
    await browser.expect("session_ended")
    entries = await candidate_entries(interview, 2)
    assert [e.text for e in entries] == ["[not transcribed]"] * 2
    return interview, entries, spoken


def run_command(*args) -> str:
    out = io.StringIO()
    call_command("transcribe_interview", *[str(a) for a in args], stdout=out)
    return out.getvalue()


async def test_untranscribed_turns_get_their_words(make_interview, settings):
    interview, before, _spoken = await interview_without_transcripts(make_interview)
    output = await sync_to_async(run_command)(interview.pk, "--model", "whisper-tiny", "--dry-run")
    assert "2 turn(s) transcribed, 2 would change" in output
    unchanged = [e async for e in TranscriptEntry.objects.filter(role="candidate")]
    assert {e.text for e in unchanged} == {"[not transcribed]"}

    output = await sync_to_async(run_command)(
        interview.pk, "--model", "whisper-tiny", "--only-untranscribed"
    )
    assert "Model: whisper-tiny" in output and "2 updated" in output
    after = await candidate_entries(interview, 2)
    assert [e.flag for e in after] == ["", ""]
    assert word_error_rate(ANSWERS[:2], [e.text for e in after]) <= 0.25, [e.text for e in after]
    # The times came from the same marks: untouched.
    assert [(e.start_seconds, e.end_seconds) for e in after] == [
        (e.start_seconds, e.end_seconds) for e in before
    ]
    # Nothing is left untranscribed now: a second run with the flag does nothing.
    output = await sync_to_async(run_command)(
        interview.pk, "--model", "whisper-tiny", "--only-untranscribed"
    )
    assert "0 turn(s) transcribed" in output


async def test_bad_requests_fail_clearly(make_interview, settings, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        await sync_to_async(run_command)(999999)
    interview, _token = await make_interview()
    with pytest.raises(CommandError, match="has no spool"):
        await sync_to_async(run_command)(interview.pk)
    interview, _before, _spoken = await interview_without_transcripts(make_interview)
    with pytest.raises(CommandError, match="TRANSCRIPTION=off"):
        await sync_to_async(run_command)(interview.pk)
    settings.TRANSCRIPTION = "whisper-base"
    settings.TRANSCRIPTION_MODEL_DIR = str(tmp_path)
    with pytest.raises(CommandError, match=r"lacks model\.bin"):
        await sync_to_async(run_command)(interview.pk)
