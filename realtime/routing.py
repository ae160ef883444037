from django.urls import path

from .consumers import SessionConsumer
from .protocol import SESSION_PATH

websocket_urlpatterns: list = [
    path(SESSION_PATH.lstrip("/"), SessionConsumer.as_asgi()),
]
