"""Jobs, candidates, interviews and transcripts: the domain every other app builds on."""

from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "interviews"
    verbose_name = "Interviews"
