"""The admin's timeline picture: who spoke when, cuts and per-turn latency.

``summarize`` runs once per mix over the mic track's 50 ms frame energies and returns plain JSON kept on the export record; ``render_svg``
draws that JSON server-side, so the admin page never touches audio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.utils.html import escape

from .mixing import FRAME
from .spool import SAMPLE_RATE
from .timeline import Timeline

MIN_GAP_S = 0.35  # pauses shorter than this stay inside one speech segment
MIN_SPEECH_S = 0.15
FLOOR_DBFS = -45.0


def _segments(active: np.ndarray, frame_s: float) -> list[list[float]]:
    if not active.any():
        return []
    padded = np.concatenate(([False], active, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    spans = edges.reshape(-1, 2) * frame_s
    merged: list[list[float]] = []
    for start, end in spans.tolist():
        if merged and start - merged[-1][1] < MIN_GAP_S:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    return [[round(s, 3), round(e, 3)] for s, e in merged if e - s >= MIN_SPEECH_S]


def speech_segments(rms: np.ndarray) -> list[list[float]]:
    """Voice activity from 50 ms frame RMS: above -45 dBFS and 10 dB over the noise floor."""
    if not len(rms):
        return []
    db = 20 * np.log10(np.maximum(rms / 32768.0, 1e-9))
    floor = float(np.percentile(db, 20))
    active = db > max(FLOOR_DBFS, floor + 10.0)
    return _segments(active, FRAME / SAMPLE_RATE)


def ai_spans(timeline: Timeline | Sequence[Timeline]) -> list[list[float]]:
    timelines = [timeline] if isinstance(timeline, Timeline) else list(timeline)
    dst = np.concatenate([np.zeros(0, dtype=np.int64), *(t.ai.dst for t in timelines)])
    length = np.concatenate([np.zeros(0, dtype=np.int64), *(t.ai.length for t in timelines)])
    if not len(dst):
        return []
    order = np.argsort(dst, kind="stable")
    starts = dst[order] / SAMPLE_RATE
    ends = (dst + length)[order] / SAMPLE_RATE
    spans: list[list[float]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if spans and s - spans[-1][1] < MIN_GAP_S:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    return [[round(max(s, 0.0), 3), round(e, 3)] for s, e in spans if e > 0]


def turns(mic: list[list[float]], ai: list[list[float]]) -> list[dict]:
    """Latency per turn: end of the candidate's speech to the start of the AI's answer."""
    result = []
    last_ai_end = float("-inf")
    for start, end in ai:
        before = [m for m in mic if m[1] <= start and m[1] > last_ai_end]
        if before:
            mic_end = before[-1][1]
            result.append(
                {
                    "mic_end": mic_end,
                    "ai_start": start,
                    "latency_ms": round((start - mic_end) * 1000),
                }
            )
        last_ai_end = end
    return result


def summarize(
    mic_frame_rms: np.ndarray, timeline: Timeline | Sequence[Timeline], duration_samples: int
) -> dict:
    """The picture's JSON; several timelines (one per session, one zero) are drawn as one."""
    timelines = [timeline] if isinstance(timeline, Timeline) else list(timeline)
    mic_segments = speech_segments(mic_frame_rms)
    ai_segments = ai_spans(timelines)
    cuts = sorted(c for t in timelines for c in t.cuts)
    return {
        "duration": round(duration_samples / SAMPLE_RATE, 3),
        "zero": timelines[0].zero,
        "basis": timelines[0].basis,
        "mic": mic_segments,
        "ai": ai_segments,
        "cuts": [round(c / SAMPLE_RATE, 3) for c in cuts],
        "turns": turns(mic_segments, ai_segments),
        "missing_telemetry": sum(t.missing_telemetry for t in timelines),
        "snapped": sum(t.snapped for t in timelines),
        "dropped_after_cut": sum(t.dropped_after_cut for t in timelines),
        "mic_chunks": sum(len(t.mic) for t in timelines),
        "ai_chunks": sum(len(t.ai) for t in timelines),
    }


# -- drawing ----------------------------------------------------------------

WIDTH = 960
LEFT = 70
ROW_H = 22
MIC_Y = 26
AI_Y = 56
LAT_Y = 92
HEIGHT = 130
PLOT_WIDTH = WIDTH - LEFT - 10  # seconds 0..duration span x = LEFT..LEFT + PLOT_WIDTH


def _tick_step(duration: float) -> float:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900):
        if duration / step <= 12:
            return float(step)
    return 1800.0


def _fmt_time(t: float) -> str:
    minutes, seconds = divmod(round(t), 60)
    return f"{minutes}:{seconds:02d}"


def picture_geometry(summary: dict | None) -> dict | None:
    """How ``render_svg`` maps seconds to x, so a click on the picture can become a time."""
    if not summary or not summary.get("duration"):
        return None
    return {"duration": float(summary["duration"]), "left": LEFT, "plot_width": PLOT_WIDTH}


def render_svg(summary: dict | None, gaps: Sequence[tuple[float, float]] = ()) -> str:
    """An inline SVG of the summary; an explanatory note when there is none.

    ``gaps``: stretches of the MP4 without video (between recording segments), shaded.
    """
    if not summary or not summary.get("duration"):
        return '<p class="timeline-empty">No spooled audio for this interview yet.</p>'
    duration = float(summary["duration"])
    scale = PLOT_WIDTH / max(duration, 0.001)

    def x(t: float) -> float:
        return round(LEFT + max(0.0, min(t, duration)) * scale, 2)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="interview-timeline" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-label="Interview timeline">',
        f'<text x="4" y="{MIC_Y + 15}">Candidate</text>',
        f'<text x="4" y="{AI_Y + 15}">AI</text>',
        f'<text x="4" y="{LAT_Y + 4}">Latency</text>',
        f'<rect x="{LEFT}" y="{MIC_Y}" width="{WIDTH - LEFT - 10}" height="{ROW_H}" fill="#f3f5f7"/>',
        f'<rect x="{LEFT}" y="{AI_Y}" width="{WIDTH - LEFT - 10}" height="{ROW_H}" fill="#f3f5f7"/>',
    ]
    for start, end in gaps:
        parts.append(
            f'<g class="gap"><rect x="{x(start)}" y="{MIC_Y - 6}" '
            f'width="{max(x(end) - x(start), 0.5)}" height="{AI_Y + ROW_H - MIC_Y + 12}" '
            f'fill="#9e9e9e" fill-opacity="0.35"><title>no video {start:.2f}–{end:.2f} s'
            f'</title></rect><text x="{x(start) + 2}" y="{MIC_Y - 8}" font-size="9">no video'
            f"</text></g>"
        )
    for start, end in summary.get("mic", []):
        parts.append(
            f'<rect class="mic" x="{x(start)}" y="{MIC_Y}" width="{max(x(end) - x(start), 0.5)}" '
            f'height="{ROW_H}" fill="#2b7bb9"><title>candidate {start:.2f}–{end:.2f} s</title></rect>'
        )
    for start, end in summary.get("ai", []):
        parts.append(
            f'<rect class="ai" x="{x(start)}" y="{AI_Y}" width="{max(x(end) - x(start), 0.5)}" '
            f'height="{ROW_H}" fill="#e08a1e"><title>AI {start:.2f}–{end:.2f} s</title></rect>'
        )
    for cut in summary.get("cuts", []):
        parts.append(
            f'<line class="cut" x1="{x(cut)}" x2="{x(cut)}" y1="{MIC_Y - 4}" y2="{AI_Y + ROW_H + 4}" '
            f'stroke="#c62828" stroke-width="2"><title>interrupted at {cut:.2f} s</title></line>'
        )
    for turn in summary.get("turns", []):
        x1, x2 = x(turn["mic_end"]), x(turn["ai_start"])
        parts.append(
            f'<line class="latency" x1="{x1}" x2="{x2}" y1="{LAT_Y}" y2="{LAT_Y}" '
            f'stroke="#555" stroke-width="3"><title>{escape(turn["latency_ms"])} ms</title></line>'
        )
        parts.append(
            f'<text x="{x1}" y="{LAT_Y + 14}" font-size="9">{escape(turn["latency_ms"])} ms</text>'
        )
    step = _tick_step(duration)
    t = 0.0
    while t <= duration + 1e-9:
        parts.append(
            f'<line x1="{x(t)}" x2="{x(t)}" y1="{HEIGHT - 14}" y2="{HEIGHT - 10}" stroke="#999"/>'
            f'<text x="{x(t) - 8}" y="{HEIGHT - 1}" font-size="9">{_fmt_time(t)}</text>'
        )
        t += step
    parts.append("</svg>")
    return "".join(parts)
