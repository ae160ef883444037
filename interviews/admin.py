from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime

from . import review
from .invitations import invitation_path
from .models import Candidate, Interview, Job


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


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    """The interview list and, for an existing interview, its review page.

    An interview's facts (status, job, media) are written by the interview itself, never
    edited here: the page is read-only apart from the review form.
    """

    class Media:
        css = {"all": ["interviews/admin.css"]}

    change_form_template = "admin/interviews/interview/review.html"
    change_list_template = "admin/interviews/interview/change_list.html"
    list_display = [
        "id",
        "candidate_name",
        "job",
        "outcome_badge",
        "review_summary",
        "duration_display",
        "answer_count",
        "started",
    ]
    list_display_links = ["id", "candidate_name"]
    list_filter = ["status", "end_reason", "job"]
    search_fields = ["candidate__name", "candidate__email", "job__title"]
    list_select_related = ["candidate", "job"]
    raw_id_fields = ["candidate"]
    readonly_fields = ["invitation_link", "started_at", "ended_at", "created_at", "updated_at"]
    actions = ["show_invitation_links"]
    date_hierarchy = "created_at"

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ["job", "candidate"]})]
        facts = ["job", "candidate", "status", "end_reason", "failure_reason", "invitation_link"]
        times = ["started_at", "ended_at", "created_at", "updated_at"]
        return [("Interview", {"fields": facts}), ("Times", {"fields": times})]

    def has_change_permission(self, request, obj=None) -> bool:
        # An existing interview is shown, not edited; adding one still works.
        return obj is None and super().has_change_permission(request)

    def get_queryset(self, request):
        return review.with_list_figures(super().get_queryset(request))

    # -- the list ------------------------------------------------------------------

    @admin.display(description="Candidate", ordering="candidate__name")
    def candidate_name(self, obj: Interview) -> str:
        return obj.candidate.name

    @admin.display(description="Outcome", ordering="status")
    def outcome_badge(self, obj: Interview) -> str:
        result = review.outcome(obj)
        return format_html(
            '<span class="outcome outcome-{}">{}</span><span class="outcome-detail">{}</span>',
            result.kind,
            result.label,
            result.detail,
        )

    @admin.display(description="Review", ordering="review_rating")
    def review_summary(self, obj: Interview) -> str:
        if obj.review_rating is None:
            return "Not reviewed"
        decision = review.Review.Decision(obj.review_decision)
        return format_html(
            '{}/5 <span class="decision decision-{}">{}</span>',
            obj.review_rating,
            decision.value,
            decision.label,
        )

    @admin.display(description="Duration", ordering="ended_at")
    def duration_display(self, obj: Interview) -> str:
        return review.format_duration(review.duration(obj))

    @admin.display(description="Started", ordering="started_at")
    def started(self, obj: Interview) -> str:
        if obj.started_at is None:
            return "–"
        return date_format(localtime(obj.started_at), "Y-m-d H:i")

    @admin.display(description="Answers", ordering="answer_count")
    def answer_count(self, obj: Interview) -> int:
        return obj.answer_count

    # -- the review page -----------------------------------------------------------

    def recording_review(self, obj: Interview) -> dict:
        """What the page knows of the recording; the recording pipeline's admin adds more.

        ``zero`` is the client-clock second at which the MP4 starts.
        """
        return {"zero": 0.0, "video_url": obj.video_url}

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            return super().change_view(request, object_id, form_url, extra_context)
        form = None
        if request.method == "POST" and "save_review" in request.POST:
            if not request.user.has_perm("interviews.add_review"):
                raise PermissionDenied
            form = review.ReviewForm(request.POST)
            if form.is_valid():
                review.save_review(interview=obj, reviewer=request.user, **form.cleaned_data)
                self.message_user(request, "Review saved.", messages.SUCCESS)
                return HttpResponseRedirect(request.path + "#review")
            request.method = "GET"  # show the page again with the form's errors, nothing saved
        context = {
            "title": f"Review of interview #{obj.pk}",
            **(extra_context or {}),
            "review": self._review_context(request, obj, form),
        }
        response = super().change_view(request, object_id, form_url, context)
        if form is not None:
            response.status_code = 400
        return response

    def _review_context(self, request, obj: Interview, form) -> dict:
        recording = self.recording_review(obj)
        mine = obj.reviews.filter(reviewer=request.user).first()
        return {
            "outcome": review.outcome(obj),
            "duration": review.format_duration(review.duration(obj)),
            "lines": review.transcript_lines(obj, zero=recording["zero"]),
            "latency": review.latency_rows(obj),
            "usage": review.usage_rows(obj),
            "recording": recording,
            "reviews": review.reviews_of(obj),
            "can_review": request.user.has_perm("interviews.add_review"),
            "form": form or review.ReviewForm(instance=mine),
        }

    @admin.display(description="Invitation link")
    def invitation_link(self, obj: Interview) -> str:
        if not obj.pk:
            return "–"
        path = invitation_path(obj)
        return format_html('<a href="{}">{}</a>', path, path)

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
