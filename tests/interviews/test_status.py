"""Interview status moves only along invited → in_progress → completed → exported, or to failed."""

import pytest

from interviews import services
from interviews.models import Interview

pytestmark = pytest.mark.django_db

EndReason = Interview.EndReason


@pytest.fixture
def interview():
    interview, _ = services.create_interview(
        job_title="Engineer", candidate_name="Ada", candidate_email="ada@example.com"
    )
    return interview


def status_of(interview) -> str:
    interview.refresh_from_db()
    return interview.status


def test_the_happy_path_moves_forward_once(interview):
    assert services.start_interview(interview_id=interview.pk)
    assert not services.start_interview(interview_id=interview.pk)  # a resume changes nothing
    interview.refresh_from_db()
    started = interview.started_at
    assert started is not None
    assert services.complete_interview(
        interview_id=interview.pk, end_reason=EndReason.INTERVIEWER_FINISHED
    )
    assert not services.complete_interview(
        interview_id=interview.pk, end_reason=EndReason.CANDIDATE_ENDED
    )
    interview.refresh_from_db()
    assert interview.status == Interview.Status.COMPLETED
    assert interview.end_reason == EndReason.INTERVIEWER_FINISHED  # the first end wins
    assert interview.started_at == started and interview.ended_at is not None
    assert services.mark_exported(interview_id=interview.pk, video_url="/media/x.mp4")
    assert services.mark_exported(interview_id=interview.pk, video_url="/media/y.mp4")  # re-export
    assert status_of(interview) == Interview.Status.EXPORTED
    # Nothing moves an exported interview backwards or to failed.
    assert not services.start_interview(interview_id=interview.pk)
    assert not services.fail_interview(interview_id=interview.pk, reason="late failure")
    assert status_of(interview) == Interview.Status.EXPORTED


def test_a_failed_interview_keeps_its_reason_and_still_gets_its_video(interview):
    services.start_interview(interview_id=interview.pk)
    assert services.fail_interview(
        interview_id=interview.pk,
        reason="The AI provider refused the API key.",
        end_reason=EndReason.PROVIDER_FAILED,
    )
    assert not services.complete_interview(
        interview_id=interview.pk, end_reason=EndReason.ABANDONED
    )
    assert not services.mark_exported(interview_id=interview.pk, video_url="/media/1.mp4")
    interview.refresh_from_db()
    assert interview.status == Interview.Status.FAILED
    assert interview.failure_reason == "The AI provider refused the API key."
    assert interview.end_reason == EndReason.PROVIDER_FAILED
    assert interview.ended_at is not None
    assert interview.video_url == "/media/1.mp4"


def test_an_unknown_end_reason_is_refused(interview):
    with pytest.raises(ValueError):
        services.complete_interview(interview_id=interview.pk, end_reason="bored")
    assert status_of(interview) == Interview.Status.INVITED
