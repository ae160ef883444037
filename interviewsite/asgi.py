"""ASGI entry point: HTTP through Django, websockets under /ws/ through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")

# Django must be set up before anything imports models (the websocket routes do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from interviewsite.body_limit import install_daphne_body_limit  # noqa: E402
from interviewsite.memory import freeze_loaded_objects  # noqa: E402
from interviewsite.redaction import install_daphne_access_log  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402
from realtime.transcription import load_at_startup  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

install_daphne_access_log()
install_daphne_body_limit()  # an oversized body is refused before daphne reads it
freeze_loaded_objects()
load_at_startup()  # the speech-to-text model loads in a worker thread
