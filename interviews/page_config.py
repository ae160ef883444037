"""What the candidate page's scripts need from the server, in one JSON object.

URLs come from the URL map and protocol numbers from ``realtime.protocol``, so the
scripts never hold a second copy of a value the server defines.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from realtime import protocol

from .models import Interview, TranscriptEntry

#: What the candidate reads for a line whose words are missing: never the staff's wording.
_MISSING_WORDS = "(your answer was recorded)"


def candidate_page_config(interview: Interview, token: str) -> dict:
    resuming = interview.status == Interview.Status.IN_PROGRESS
    return {
        "interviewId": interview.pk,
        "token": token,
        "status": interview.status,
        "questionsCount": len(interview.job.questions or []),
        "finishedStatuses": [str(s) for s in Interview.FINISHED_STATUSES],
        "debug": settings.DEBUG,
        "urls": {
            "session": protocol.SESSION_PATH,
            "sessionRoutingParam": protocol.ROUTING_PARAM,
            "upload": reverse("media_export:upload_video"),
        },
        "audio": {"sampleRate": protocol.SAMPLE_RATE, "chunkMs": protocol.CHUNK_MS},
        "closeCodes": {
            "normal": protocol.CLOSE_NORMAL,
            "superseded": protocol.CLOSE_SUPERSEDED,
            "unauthorized": protocol.CLOSE_UNAUTHORIZED,
            "finished": protocol.CLOSE_FINISHED,
            "providerUnavailable": protocol.CLOSE_PROVIDER_UNAVAILABLE,
            "final": list(protocol.FINAL_CLOSE_CODES),
        },
        # A reload mid-interview shows the conversation so far and counts the answers given.
        "transcript": candidate_transcript(interview) if resuming else [],
    }


def candidate_transcript(interview: Interview) -> list[dict]:
    lines = []
    for entry in interview.transcript.all():
        missing = entry.flag in (
            TranscriptEntry.Flag.INAUDIBLE,
            TranscriptEntry.Flag.NOT_TRANSCRIBED,
        )
        lines.append({"role": entry.role, "text": _MISSING_WORDS if missing else entry.text})
    return lines
