from django.conf import settings
from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from . import usage as usage_counters
from .invitations import invitation_path
from .models import Candidate, Interview, Job, TranscriptEntry


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["title", "question_count", "created_at"]
    search_fields = ["title", "description"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="Questions")
    def question_count(self, obj: Job) -> int:
        return len(obj.questions or [])


@admin.register(Candidate)
class CandidateAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "user", "created_at"]
    search_fields = ["name", "email"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]


class TranscriptInline(admin.TabularInline):
    model = TranscriptEntry
    extra = 0
    fields = ["starts", "ends", "role", "text", "provider_item_id"]
    readonly_fields = fields
    can_delete = False
    ordering = ["start_seconds", "created_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Start", ordering="start_seconds")
    def starts(self, entry: TranscriptEntry) -> str:
        return _clock(entry.start_seconds)

    @admin.display(description="End", ordering="end_seconds")
    def ends(self, entry: TranscriptEntry) -> str:
        return _clock(entry.end_seconds)


def _clock(seconds: float | None) -> str:
    """Seconds on the interview timeline as m:ss.ss, the way the players show time."""
    if seconds is None:
        return "–"
    minutes, rest = divmod(max(seconds, 0.0), 60)
    return f"{int(minutes)}:{rest:05.2f}"


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ["interviews/admin.css"]}

    list_display = ["id", "candidate", "job", "status", "started_at", "ended_at", "created_at"]
    list_filter = ["status", "job"]
    search_fields = ["candidate__name", "candidate__email", "job__title"]
    list_select_related = ["candidate", "job"]
    raw_id_fields = ["candidate"]
    readonly_fields = [
        "invitation_link",
        "started_at",
        "ended_at",
        "video_url",
        "audio_paths",
        "latency",
        "ai_usage",
        "created_at",
        "updated_at",
    ]
    inlines = [TranscriptInline]
    actions = ["show_invitation_links"]
    date_hierarchy = "created_at"

    @admin.display(description="Invitation link")
    def invitation_link(self, obj: Interview) -> str:
        if not obj.pk:
            return "–"
        path = invitation_path(obj)
        return format_html('<a href="{}">{}</a>', path, path)

    @admin.display(description="AI usage and estimated cost")
    def ai_usage(self, obj: Interview) -> str:
        if not obj.usage:
            return "–"
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            ((name.replace("_", " "), obj.usage.get(name, 0)) for name in usage_counters.COUNTERS),
        )
        cost = usage_counters.estimated_cost(obj.usage, settings.OPENAI_PRICES)
        return format_html(
            '<table class="ai-usage">{}<tr><th>estimated cost</th><td>${}</td></tr></table>',
            rows,
            f"{cost:.4f}",
        )

    @admin.action(description="Show invitation links for selected interviews")
    def show_invitation_links(self, request, queryset) -> None:
        rows = format_html_join(
            "",
            "<li>#{} {} – {}: <code>{}</code></li>",
            (
                (
                    i.pk,
                    i.candidate.name,
                    i.job.title,
                    request.build_absolute_uri(invitation_path(i)),
                )
                for i in queryset.select_related("candidate", "job")
            ),
        )
        self.message_user(request, format_html("Invitation links:<ul>{}</ul>", rows), messages.INFO)
