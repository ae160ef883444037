"""What the candidate page's scripts need from the server, in one JSON object.

URLs come from the URL map and protocol numbers from ``realtime.protocol``, so the
scripts never hold a second copy of a value the server defines.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from realtime import protocol

from .models import Interview, TranscriptEntry

#: Seconds of recording per uploaded part.
RECORDING_PART_SECONDS = 4
#: Milliseconds of recording per piece the recorder hands over: every piece waits in the
#: browser's outbox until its part is stored, so a reload or a crash loses at most one piece.
RECORDING_PIECE_MS = 500

#: What the candidate reads for a line whose words are missing: never the staff's wording.
_MISSING_WORDS = "(your answer was recorded)"
_MISSING_FLAGS = (TranscriptEntry.Flag.INAUDIBLE, TranscriptEntry.Flag.NOT_TRANSCRIBED)


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
        # Server events named here: the live captions of both voices.
        "events": {"caption": protocol.EVENT_CAPTION},
        "recording": {
            "url": reverse("media_export:recording_state", args=[interview.pk]),
            "maxPartBytes": settings.MAX_RECORDING_PART_BYTES,
            "partSeconds": RECORDING_PART_SECONDS,
            # The recorder hands over a piece this often: a reload loses at most one.
            "timesliceMs": RECORDING_PIECE_MS,
        },
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
        # After End the server may wait this long for the last answer's transcript before it
        # says the session ended: the page waits as long (and a little more) to show it.
        "endWaitMs": round((settings.END_TRANSCRIPT_WAIT_SECONDS + 4) * 1000),
        "missingWords": {"text": _MISSING_WORDS, "flags": [str(f) for f in _MISSING_FLAGS]},
        # ...and its interview clock (and timer) goes on from the real start, not from the
        # reload: every session's timestamps and every recording segment share one clock.
        "elapsedSeconds": _seconds_since(interview.started_at) if resuming else 0,
    }


def _seconds_since(moment) -> float:
    if moment is None:
        return 0
    return max(0.0, round((timezone.now() - moment).total_seconds(), 3))


def candidate_transcript(interview: Interview) -> list[dict]:
    lines = []
    for entry in interview.transcript.all():
        missing = entry.flag in _MISSING_FLAGS
        lines.append({"role": entry.role, "text": _MISSING_WORDS if missing else entry.text})
    return lines
