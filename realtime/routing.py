from django.urls import path

from .consumers import SessionConsumer

websocket_urlpatterns: list = [
    path("ws/session", SessionConsumer.as_asgi()),
]
