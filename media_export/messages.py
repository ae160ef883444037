"""Error text for people: no server paths.

FFmpeg's stderr and ``OSError`` name the files they failed on, with absolute paths that
tell a reader how the server is laid out. The export record keeps what staff see in the
admin (and a candidate sees through the status API), so paths are rewritten before it is
stored: inside ``MEDIA_ROOT`` relative to it (``uploads/videos/7_upload.webm``, which
staff can act on), anything else to its file name. The log keeps the full text.
"""

import re
from pathlib import Path, PurePosixPath

from django.conf import settings

#: An absolute POSIX path of two or more segments, not part of a URL or a relative path.
_ABSOLUTE = re.compile(r"(?<![\w.:/~-])/(?:[^\s/'\",;:()\[\]<>]+/)+[^\s/'\",;:()\[\]<>]*")


def without_server_paths(text: str) -> str:
    roots = {str(settings.MEDIA_ROOT), str(Path(settings.MEDIA_ROOT).resolve())}
    for root in sorted(roots, key=len, reverse=True):
        text = text.replace(root.rstrip("/") + "/", "")
    return _ABSOLUTE.sub(lambda match: PurePosixPath(match.group(0)).name or "/", text)
