from django.urls import path

from . import saved_views, views

app_name = "admin_explorer"

urlpatterns = [
    path("api/admin/data", views.AnnotationTaskViewSet.as_view({"get": "list"}), name="data"),
    path("api/admin/data/export", views.ExportView.as_view(), name="export"),
    path("api/admin/data/counts", views.FacetCountsView.as_view(), name="counts"),
    path(
        "api/admin/views",
        saved_views.SavedViewViewSet.as_view({"get": "list", "post": "create"}),
        name="views",
    ),
    path(
        "api/admin/views/<pk:pk>",
        saved_views.SavedViewViewSet.as_view({"delete": "destroy"}),
        name="view",
    ),
    path("admin/data-explorer", views.explorer_page, name="explorer"),
]
