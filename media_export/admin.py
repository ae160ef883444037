"""Adds the recording to the Interview admin page without ``interviews`` knowing about it.

The interviews app registers its own ``InterviewAdmin`` (a review page); this module
swaps in a subclass that gives the page the recording: where the MP4 starts on the
interview clock, the server-drawn timeline picture (clickable to seek), each turn's
latency and the recording's segments, plus players for the WAVs and the export job's state.
"""

from collections.abc import Sequence

from django.contrib import admin
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from interviews.admin import InterviewAdmin
from interviews.models import Interview
from interviews.review import clock

from . import placing, recording
from .models import MediaExport, WorkerHeartbeat
from .picture import picture_geometry, render_svg
from .services import media_url

RECORDING_FIELDS = ["recording_players", "export_state"]


class RecordingInterviewAdmin(InterviewAdmin):
    readonly_fields = [*InterviewAdmin.readonly_fields, *RECORDING_FIELDS]

    class Media:
        # Lets the timeline picture and players take the row's width instead of overflowing it.
        css = {"all": ["media_export/admin.css"]}

    def get_fieldsets(self, request, obj=None):
        fieldsets = list(super().get_fieldsets(request, obj))
        # Keep the recording fields together in their own section.
        first = [
            (name, {**opts, "fields": [f for f in opts["fields"] if f not in RECORDING_FIELDS]})
            for name, opts in fieldsets
        ]
        return [*first, ("Recording", {"fields": RECORDING_FIELDS})]

    def _export(self, obj: Interview) -> MediaExport | None:
        if not obj.pk:
            return None
        return MediaExport.objects.filter(pk=obj.pk).first()

    @admin.display(description="Players")
    def recording_players(self, obj: Interview) -> str:
        paths = obj.audio_paths or {}
        rows = format_html_join(
            "",
            '<div class="recording-track"><strong>{}</strong>'
            '<audio controls preload="none" src="{}"></audio> <a href="{}">download</a></div>',
            (
                (name, media_url(paths[name]), media_url(paths[name]))
                for name in ("mic", "ai", "mixed")
                if paths.get(name)
            ),
        )
        return rows or "No WAV files yet."

    def recording_review(self, obj: Interview) -> dict:
        export = self._export(obj)
        summary = (export.timeline if export else None) or {}
        zero = export.timeline_zero if export and export.timeline_zero is not None else 0.0
        return {
            **super().recording_review(obj),
            "zero": zero,
            "picture": self.timeline_picture(obj),
            "picture_geometry": picture_geometry(summary),
            "turns": turn_rows(summary),
            "segments": segment_rows(
                recording.segments(obj.pk), export.segment_timeline if export else []
            ),
            "no_video_reason": export.no_video_reason if export else "",
        }

    @admin.display(description="Export job")
    def export_state(self, obj: Interview) -> str:
        export = self._export(obj)
        if export is None:
            return "No export yet."
        items = [
            ("Status", export.get_status_display()),
            ("Attempts", export.attempts),
            ("Queued", export.queued_at or "–"),
            ("Started", export.started_at or "–"),
            ("Finished", export.finished_at or "–"),
            ("Uploaded video", export.video_upload or "–"),
            ("Video codec", export.video_codec or "–"),
            (
                "Timeline zero",
                f"{export.timeline_basis or '–'} "
                f"({export.timeline_zero if export.timeline_zero is not None else '–'} s)",
            ),
            ("Zero from", export.alignment_source or "–"),
            ("recording_started", _seconds(export.recording_started_offset)),
            ("Measured video zero", _seconds(export.measured_offset)),
            (
                "Correction",
                f"{export.alignment_correction_ms:+.1f} ms"
                if export.alignment_correction_ms is not None
                else "–",
            ),
            (
                "Confidence",
                f"{export.alignment_confidence:.2f}"
                if export.alignment_confidence is not None
                else "–",
            ),
            ("Stretches", _stretches(export.alignment_stretches)),
            ("Task", export.task_id or "–"),
        ]
        if export.no_video_reason:
            items.append(("No video", export.no_video_reason))
        if export.error:
            items.append(("Error", export.error))
        if export.mix_error:
            items.append(("Mixing error", export.mix_error))
        body = format_html_join(
            "",
            "<tr><th>{}</th><td><pre class='export-value'>{}</pre></td></tr>",
            items,
        )
        return format_html("<table>{}</table>", body)

    @admin.display(description="Timeline")
    def timeline_picture(self, obj: Interview) -> str:
        export = self._export(obj)
        summary = export.timeline if export else None
        gaps = placing.gaps(export.segment_timeline or []) if export else []
        svg = render_svg(summary, gaps)  # built from numbers only; labels are escaped
        if not summary:
            return mark_safe(svg)
        legend = format_html(
            "<div class='timeline-legend'>Blue: candidate speech · orange: AI speech · red: "
            "interruption · grey: turn latency{}. {} AI chunks without telemetry, {} snapped, "
            "{} dropped after a cut.</div>",
            " · shaded: no video (between recording segments)" if gaps else "",
            summary.get("missing_telemetry", 0),
            summary.get("snapped", 0),
            summary.get("dropped_after_cut", 0),
        )
        return format_html("{}{}", mark_safe(svg), legend)


def turn_rows(summary: dict) -> list[dict]:
    """The picture's turns for the latency table, on the MP4's time (sample 0 is second 0)."""
    return [
        {
            "at": turn["mic_end"],
            "clock": clock(turn["mic_end"]),
            "answer_clock": clock(turn["ai_start"]),
            "latency_ms": turn["latency_ms"],
        }
        for turn in summary.get("turns", [])
    ]


def segment_rows(segments: list[recording.Segment], places: Sequence[dict] = ()) -> list[dict]:
    """The recording as the browser uploaded it: one row per segment (a reload starts one),
    with where the export placed it on the MP4's clock and the gap without video before it."""
    where = {p["segment"]: p for p in places}
    previous_end = None
    rows = []
    for seg in segments:
        if seg.complete:
            state = "Complete"
        elif seg.declared_parts is not None:
            missing = [n for n in range(seg.declared_parts) if n not in seg.parts]
            state = "Parts missing: " + ", ".join(str(n) for n in missing)
        else:
            state = "Not completed: the page was reloaded or closed first"
        place = where.get(seg.segment)
        row = {
            "label": f"Segment {seg.segment + 1}",
            "parts": len(seg.parts),
            "size": filesizeformat(seg.bytes),
            "state": state,
            "place": "",
            "gap": "",
            "at": None,
        }
        if place is not None:
            row["place"] = f"{clock(place['start'])}–{clock(place['end'])}"
            row["at"] = place["start"]
            if previous_end is not None:
                row["gap"] = f"{max(place['start'] - previous_end, 0.0):.1f} s"
            previous_end = place["end"]
        rows.append(row)
    return rows


def _stretches(rows: list[dict]) -> str:
    """One line per stretch of the recording between steps (one line: it never stepped)."""
    if not rows:
        return "–"
    return "\n".join(
        f"{r['start']:.2f}–{r['end']:.2f} s: zero {r['zero']:.4f} s, {r['shift_ms']:+.1f} ms, "
        f"confidence {r['confidence']:.2f} over {r['windows']} windows"
        + (f", {r['cause']} moved" if r.get("cause") else "")
        for r in rows
    )


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f} s"


admin.site.unregister(Interview)
admin.site.register(Interview, RecordingInterviewAdmin)


@admin.register(MediaExport)
class MediaExportAdmin(admin.ModelAdmin):
    list_display = [
        "interview",
        "status",
        "attempts",
        "video_codec",
        "alignment_confidence",
        "updated_at",
    ]
    list_filter = ["status"]
    readonly_fields = [f.name for f in MediaExport._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["worker_id", "hostname", "pid", "started_at", "last_seen"]
    readonly_fields = ["worker_id", "hostname", "pid", "started_at", "last_seen"]
