"""Crash-safe audio spool, mixing, video upload and MP4 export."""

from django.apps import AppConfig


class MediaExportConfig(AppConfig):
    name = "media_export"
    verbose_name = "Media export"
