"""What the candidate is told when the interviewer has trouble: a short, fixed vocabulary.

Upstream error text (quota, keys, model names) is for the logs and for staff; the
candidate only ever sees one of these, sent as ``{"event": "error", "code", "message"}``.
"""

from __future__ import annotations

RECONNECTING = "interviewer_reconnecting"
UNAVAILABLE = "interviewer_unavailable"
REPEAT = "interviewer_repeat"

NOTICES = {
    RECONNECTING: "The interviewer is reconnecting. Please wait a moment.",
    UNAVAILABLE: "The interviewer is unavailable. Your answers so far are saved.",
    REPEAT: "The interviewer did not catch that. Could you say it again?",
}


def notice(code: str) -> dict:
    return {"event": "error", "code": code, "message": NOTICES[code]}
