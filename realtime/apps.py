"""The /ws/session proxy between the candidate's browser and the AI provider."""

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime"
