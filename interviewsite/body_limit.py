"""Refuse oversized request bodies inside daphne, before a byte of them is kept.

daphne (through Twisted) reads a whole request body before the ASGI application sees
the request: Twisted parses a multipart body in memory, and daphne then queues the
whole body as ``http.request`` messages. A 300 MB POST to any URL would therefore cost
gigabytes of memory and stall every websocket served by the process, and no Django
view or ASGI middleware can refuse it in time. This module makes daphne's request
class check ``Content-Length`` (and the running total of a chunked body) as the
headers end, answer 413 and close the connection, so at most one read buffer of the
body is ever held. Bodies within the limit are handled as before, without Twisted's
form parsing (daphne never uses it).

In production a reverse proxy in front should refuse large bodies too (nginx:
``client_max_body_size``); see docs/architecture.md, "Operations".
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

logger = logging.getLogger("interviewsite.body_limit")


class _Discard:
    """Stands in for the request's content file once the body is refused."""

    closed = False

    def write(self, data: bytes) -> None:
        pass

    def read(self, size: int = -1) -> bytes:
        return b""

    def seek(self, *args) -> int:
        return 0

    def tell(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


def refusal_response(limit: int) -> bytes:
    body = json.dumps(
        {
            "error": {
                "code": "too_large",
                "message": f"The request body is larger than {limit} bytes.",
            }
        }
    ).encode()
    head = (
        "HTTP/1.1 413 Content Too Large\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    return head + body


def install_daphne_body_limit() -> None:
    """Patch daphne's request class once per process (called from ``asgi.py``)."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # pragma: no cover - daphne is a pinned requirement
        return
    if getattr(WebRequest, "_body_limit_installed", False):
        return
    got_length = WebRequest.gotLength
    handle_chunk = WebRequest.handleContentChunk
    request_received = WebRequest.requestReceived

    def refuse(request) -> None:
        limit = settings.MAX_REQUEST_BODY_BYTES
        request._body_refused = True
        request.content = _Discard()
        transport = request.channel.transport if request.channel else None
        logger.warning("Refused a request body over %d bytes", limit)
        if transport is not None:
            transport.write(refusal_response(limit))
            transport.loseConnection()  # stops reading: the rest of the body is never taken

    def gotLength(self, length):
        self._body_refused = False
        self._body_seen = 0
        if length is not None and length > settings.MAX_REQUEST_BODY_BYTES:
            refuse(self)
            return
        got_length(self, length)

    def handleContentChunk(self, data):
        if getattr(self, "_body_refused", False):
            return
        self._body_seen = getattr(self, "_body_seen", 0) + len(data)
        if self._body_seen > settings.MAX_REQUEST_BODY_BYTES:  # a chunked body
            refuse(self)
            return
        handle_chunk(self, data)

    def requestReceived(self, command, path, version):
        if getattr(self, "_body_refused", False):
            return  # already answered 413; the application never sees it
        request_received(self, command, path, version)

    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.requestReceived = requestReceived
    WebRequest._parsePOSTFormSubmission = False
    WebRequest._body_limit_installed = True
