"""Staff-only explorer over annotation work done by hired candidates."""

from django.apps import AppConfig


class AdminExplorerConfig(AppConfig):
    name = "admin_explorer"
    verbose_name = "Annotation data"
