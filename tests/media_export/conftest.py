"""The interview every media-export test records for.

A module that exports a finished interview says so with ``INTERVIEW_STATUS =
Interview.Status.COMPLETED``; otherwise the interview is as ``create_interview`` leaves it.
"""

import pytest

from interviews.models import Interview
from interviews.services import create_interview


@pytest.fixture
def interview(db, request):
    interview, _ = create_interview(job_title="Eng", candidate_name="C", candidate_email="c@x.io")
    status = getattr(request.module, "INTERVIEW_STATUS", None)
    if status is not None:
        Interview.objects.filter(pk=interview.pk).update(status=status)
        interview.refresh_from_db()
    return interview
