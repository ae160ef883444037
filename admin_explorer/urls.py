from django.urls import path

from . import views

app_name = "admin_explorer"

urlpatterns = [
    path("api/admin/data", views.AnnotationTaskViewSet.as_view({"get": "list"}), name="data"),
    path("api/admin/data/export", views.ExportView.as_view(), name="export"),
    path("admin/data-explorer", views.explorer_page, name="explorer"),
]
