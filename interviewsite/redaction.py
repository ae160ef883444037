"""Invitation tokens out of every log line: they are the candidates' only credential.

A token travels in the candidate page's path (``/interview/<token>/``) and as ``?token=``
on the status, media and upload URLs. Two writers would print it: the project's logging
(Django logs "Not Found: /interview/<token>/" for an expired link) and daphne's access log,
which writes each request line itself, outside ``logging``.
"""

import logging
import re

#: The candidate page's path at the start of a path (after a space, a quote or a host), so
#: ``/admin/interviews/interview/5/`` is left alone.
_PAGE = re.compile(r"((?:^|[\s\"'(=]|//[^/\s\"']+)/interview/)[^/?#\s\"']+")
_QUERY = re.compile(r"([?&](?:amp;)?token=)[^&#\s\"']*")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with every invitation token replaced by ``[redacted]``."""
    if "interview/" not in text and "token=" not in text:
        return text
    return _QUERY.sub(rf"\g<1>{REDACTED}", _PAGE.sub(rf"\g<1>{REDACTED}", text))


class RedactTokens(logging.Filter):
    """A handler filter: the record's message is rendered once and redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_daphne_access_log() -> None:
    """Make daphne's access log write request lines with the token redacted.

    daphne's command line builds its access logger from ``daphne.cli.AccessLogGenerator``
    after it has imported the application (this project's ``asgi.py``, which calls this),
    so replacing that name is the one place to reach it without a launcher of our own.
    """
    try:
        import daphne.cli
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - daphne is a pinned requirement
        return

    class RedactingAccessLog(AccessLogGenerator):
        def write_entry(self, host, date, request, *args, **kwargs):
            super().write_entry(host, date, redact(request), *args, **kwargs)

    daphne.cli.AccessLogGenerator = RedactingAccessLog
