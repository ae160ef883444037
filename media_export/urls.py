from django.conf import settings
from django.urls import path

from . import views

app_name = "media_export"

_media_prefix = settings.MEDIA_URL.strip("/")

urlpatterns = [
    path("api/interviews/upload/video", views.upload_video, name="upload_video"),
    path("api/interviews/<pk:interview_id>/export", views.export_status, name="export_status"),
    path(f"{_media_prefix}/<path:path>", views.protected_media, name="media"),
]
