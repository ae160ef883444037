"""Plain admin screens for editing single records; browsing at scale is the Data Explorer's job."""

from django.contrib import admin

from .models import AnnotationTask, Annotator, Dataset, Tag


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["title", "job", "tag_list", "created_at"]
    list_filter = ["tags"]
    search_fields = ["title", "job__title"]
    autocomplete_fields = ["job", "tags"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("job").prefetch_related("tags")

    @admin.display(description="Tags")
    def tag_list(self, obj: Dataset) -> str:
        return ", ".join(tag.name for tag in obj.tags.all())


@admin.register(Annotator)
class AnnotatorAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "candidate", "user"]
    search_fields = ["name", "email"]
    raw_id_fields = ["candidate", "user"]


@admin.register(AnnotationTask)
class AnnotationTaskAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "quality_rating", "job", "dataset", "annotator", "created_at"]
    list_filter = ["status"]
    list_select_related = ["job", "dataset", "annotator"]
    raw_id_fields = ["job", "dataset", "annotator"]
    readonly_fields = ["updated_at"]
    # Millions of rows: skip the unfiltered COUNT(*) the change list would run on every page.
    show_full_result_count = False
