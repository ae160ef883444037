from django.conf import settings
from django.urls import path

from . import recording_views, views

app_name = "media_export"

_media_prefix = settings.MEDIA_URL.strip("/")

urlpatterns = [
    path("api/interviews/upload/video", views.upload_video, name="upload_video"),
    path("api/interviews/<pk:interview_id>/export", views.export_status, name="export_status"),
    path(
        "api/interviews/<pk:interview_id>/recording",
        recording_views.recording_state,
        name="recording_state",
    ),
    path(
        "api/interviews/<pk:interview_id>/recording/<int:segment>/parts/<int:n>",
        recording_views.put_part,
        name="recording_part",
    ),
    path(
        "api/interviews/<pk:interview_id>/recording/<int:segment>/complete",
        recording_views.complete_segment,
        name="recording_complete",
    ),
    path(f"{_media_prefix}/<path:path>", views.protected_media, name="media"),
]
