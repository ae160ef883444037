"""Root URL map. Each app owns its own ``urls.py``; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    # The explorer page lives under /admin/, so it must be matched before the admin catch-all.
    path("", include("admin_explorer.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include("media_export.urls")),
    path("", include("interviews.urls")),
]

handler404 = "interviews.views.not_found"
