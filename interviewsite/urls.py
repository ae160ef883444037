"""Root URL map. Each app owns its own ``urls.py``; this file only mounts them."""

from django.contrib import admin
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAdminUser

from .authentication import StaffSessionAuthentication
from .converters import PositiveIdConverter

# Before the apps' URL modules are imported: they use <pk:...> for database ids.
register_converter(PositiveIdConverter, "pk")

urlpatterns = [
    # The explorer page lives under /admin/, so it must be matched before the admin catch-all.
    path("", include("admin_explorer.urls")),
    path("admin/", admin.site.urls),
    # The API description is for staff: it maps every endpoint and parameter.
    path(
        "api/schema/",
        SpectacularAPIView.as_view(
            authentication_classes=[StaffSessionAuthentication], permission_classes=[IsAdminUser]
        ),
        name="schema",
    ),
    path("", include("media_export.urls")),
    path("", include("interviews.urls")),
]

handler404 = "interviewsite.errors.not_found"
handler500 = "interviewsite.errors.server_error"
