"""The scenario's measurements: everything the sync report and the assertions need.

Inputs are the files the product wrote (uploaded recording, the three WAVs, the
MP4), the client's own log (``window.interviewTelemetry``), the WebSocket frames
Playwright saw and the fake microphone's description. Nothing here trusts the
product's alignment: the video's zero on the client clock is found from the
fake mic's chirps, located both in the recording and in the streamed mic audio.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.e2e import stretch_checks
from tests.e2e import sync_analysis as sa
from tests.e2e.fake_mic import FakeMic
from tests.e2e.wire import WireLog

SR = sa.SR
CHUNK_MIN_RMS = 0.003  # below this a chunk is (near) silence and cannot be placed by shape
CHUNK_MIN_SCORE = 0.9  # an exact copy scores ~1.0; less means "not there"
CHUNK_SEARCH = 0.25  # seconds searched around each chunk's expected place
MARKER_MATCH = 0.1  # seconds: the same marker in both signals (markers are ≥ 1 s apart)


@dataclass
class ChunkPlacement:
    seq: int
    expected: float  # seconds in *_ai.wav where the client log says it was heard
    found: float | None
    score: float
    offset_ms: float | None


@dataclass
class Measurements:
    codecs: dict = field(default_factory=dict)
    durations: dict = field(default_factory=dict)
    mic_offset: sa.Offset | None = None
    video_zero: float | None = None  # client-clock seconds of the video's first frame
    video_zero_pairs: int = 0
    video_zero_spread_ms: float | None = None
    # Each in-session client marker against its nearest recording marker, minus the zero (ms);
    # None when no recording marker is within ``MARKER_MATCH`` of it.
    marker_residuals_ms: list[float | None] = field(default_factory=list)
    wav_zero: float | None = None  # client-clock seconds of the fake mic file's sample 0
    wav_zero_spread_ms: float | None = None
    recording_started: float | None = None
    chunks: list[ChunkPlacement] = field(default_factory=list)
    silent_chunks: int = 0
    unheard: list[dict] = field(default_factory=list)
    mixed_in_mp4: sa.Offset | None = None
    mp4_vs_upload: sa.Offset | None = None
    placement_counts: dict = field(default_factory=dict)
    product: dict = field(default_factory=dict)
    export_seconds: float | None = None
    # Window by window: the recording's voice in *_mic.wav and the MP4 against its pictures.
    windows: list[stretch_checks.WindowCheck] = field(default_factory=list)
    # Per group of markers sharing one shift (a step makes two): (client zero, picture shift
    # in the MP4 there, pairs); the MP4 is in sync where zero - shift is the same for all.
    marker_stretches: list[tuple[float, float, int]] = field(default_factory=list)

    @property
    def placed(self) -> list[ChunkPlacement]:
        return [c for c in self.chunks if c.offset_ms is not None]

    @property
    def missing(self) -> list[ChunkPlacement]:
        return [c for c in self.chunks if c.offset_ms is None]

    def ai_stats(self) -> dict[str, float] | None:
        offsets = [c.offset_ms for c in self.placed]
        return sa.percentiles(offsets) if offsets else None

    def to_json(self) -> dict:
        def off(o: sa.Offset | None):
            return None if o is None else {"ms": o.ms, "score": o.score}

        return {
            "codecs": self.codecs,
            "durations": self.durations,
            "mic_offset": off(self.mic_offset),
            "video_zero": self.video_zero,
            "video_zero_pairs": self.video_zero_pairs,
            "video_zero_spread_ms": self.video_zero_spread_ms,
            "marker_residuals_ms": self.marker_residuals_ms,
            "wav_zero": self.wav_zero,
            "wav_zero_spread_ms": self.wav_zero_spread_ms,
            "recording_started": self.recording_started,
            "ai_stats_ms": self.ai_stats(),
            "chunks": [c.__dict__ for c in self.chunks],
            "silent_chunks": self.silent_chunks,
            "unheard": self.unheard,
            "mixed_in_mp4": off(self.mixed_in_mp4),
            "mp4_vs_upload": off(self.mp4_vs_upload),
            "placement_counts": self.placement_counts,
            "product": self.product,
            "export_seconds": self.export_seconds,
            "windows": [{**w.__dict__, "error_ms": w.error_ms} for w in self.windows],
            "marker_stretches": self.marker_stretches,
        }


def consensus_offset(
    a: list[float], b: list[float], tolerance: float
) -> tuple[float, list[tuple[float, float]]]:
    """The shift ``d`` with the most pairs ``a_i - b_j ≈ d``; returns (median d, pairs).

    Markers are about a second apart or more, so only the true shift lines many
    of them up; each pair's difference then measures the same quantity.
    """
    if not a or not b:
        raise sa.AnalysisError("no markers to pair")
    diffs = np.array([x - y for x in a for y in b])
    support = [(np.abs(diffs - d) <= tolerance).sum() for d in diffs]
    best = diffs[int(np.argmax(support))]
    pairs = []
    for x in a:
        candidates = [y for y in b if abs(x - y - best) <= tolerance]
        if candidates:
            pairs.append((x, min(candidates, key=lambda y: abs(x - y - best))))
    values = [x - y for x, y in pairs]
    return float(np.median(values)), pairs


def audio_clock_lag_ms(events: list[dict]) -> float | None:
    """How far the page's audio clock fell behind its wall clock during the session (ms).

    Each client log event carries both clocks (``t``: interview clock, ``wall``: ms). The
    wall clock reads in whole ms and the audio clock in render batches: a few ms is noise.
    """
    offsets = [
        e["wall"] / 1000 - e["t"] for e in events if e.get("t") is not None and e.get("wall")
    ]
    if not offsets:
        return None
    return max(0.0, (max(offsets) - min(offsets[:3])) * 1000)


def marker_residuals(a: list[float], b: list[float], shift: float) -> list[float | None]:
    """For each ``a_i``: ``a_i - b_j - shift`` in ms for the nearest ``b_j``, None if none is near.

    Shows why markers did not pair: a step (all later markers off by the same amount)
    reads differently from a marker that is missing or moved alone.
    """
    out: list[float | None] = []
    for x in a:
        near = [x - y - shift for y in b if abs(x - y - shift) <= MARKER_MATCH]
        out.append(round(float(min(near, key=abs)) * 1000, 3) if near else None)
    return out


def duration_of(path: Path) -> dict:
    """Length by the container and by the video packets (MediaRecorder writes no duration)."""
    info = sa.probe(path)
    fmt = info.get("format", {}).get("duration")
    first, last = sa.media_span(path, "v:0")
    video = sa.streams_of(info, "video")[0]
    rate = video.get("avg_frame_rate") or video.get("r_frame_rate") or "30/1"
    num, _, den = rate.partition("/")
    frame = float(den or 1) / float(num) if float(num or 0) else 1 / 30
    return {
        "container": float(fmt) if fmt not in (None, "N/A") else None,
        "video_span": last - first + frame,
        "video_first": first,
    }


def measure(
    *,
    upload: Path,
    mic_wav: Path,
    ai_wav: Path,
    mixed_wav: Path,
    mp4: Path,
    telemetry: dict,
    wire: WireLog,
    fake_mic: FakeMic,
) -> Measurements:
    m = Measurements()
    mp4_info = sa.probe(mp4)
    up_info = sa.probe(upload)
    m.codecs = {
        "mp4_video": [s.get("codec_name") for s in sa.streams_of(mp4_info, "video")],
        "mp4_audio": [s.get("codec_name") for s in sa.streams_of(mp4_info, "audio")],
        "upload_video": [s.get("codec_name") for s in sa.streams_of(up_info, "video")],
        "upload_audio": [s.get("codec_name") for s in sa.streams_of(up_info, "audio")],
        "upload_format": up_info.get("format", {}).get("format_name"),
        "mime_type": telemetry.get("mimeType"),
    }
    m.durations = {"mp4": duration_of(mp4), "upload": duration_of(upload)}

    upload_audio = sa.decode_audio(upload)
    mic, mic_rate = sa.read_wav(mic_wav)
    ai, ai_rate = sa.read_wav(ai_wav)
    mixed, mixed_rate = sa.read_wav(mixed_wav)
    if {mic_rate, ai_rate, mixed_rate} != {SR}:
        raise sa.AnalysisError(f"WAVs are not {SR} Hz: {mic_rate}, {ai_rate}, {mixed_rate}")
    m.durations["wav_seconds"] = {
        "mic": len(mic) / SR,
        "ai": len(ai) / SR,
        "mixed": len(mixed) / SR,
    }

    # Check 2: window by window, the recording's own audio against the product's mic track
    # and the MP4's audio, each minus where the MP4 shows that moment's pictures.
    mp4_audio = sa.decode_audio(mp4)
    pictures = stretch_checks.Pictures.read(upload, mp4)
    m.windows = stretch_checks.windows(upload_audio, mic, mp4_audio, pictures)
    worst = stretch_checks.worst(m.windows, lambda w: w.error_ms)
    if worst is None:
        raise sa.AnalysisError("no window of the recording has a voice to check")
    m.mic_offset = sa.Offset(seconds=worst.error_ms / 1000, score=worst.score)
    # Where the MP4's audio clearly has the window (the AI talking over it can hide it).
    clear = [w for w in m.windows if w.in_mp4_score >= 0.5]
    most = stretch_checks.worst(clear, lambda w: w.in_mp4_ms - w.sound_ms) or worst
    m.mp4_vs_upload = sa.Offset(
        seconds=(worst.error_ms + most.in_mp4_ms - most.sound_ms) / 1000, score=most.in_mp4_score
    )

    # Check 3, first half: the video's true zero on the client clock, from the markers. A
    # step leaves groups of markers with their own shift: each is taken where the MP4 shows
    # its pictures, and the zero is the client time of the MP4's first frame.
    zeros = find_zeros(wire, upload_audio, fake_mic)
    m.product["client_markers"] = zeros.client_marks
    m.product["video_markers"] = zeros.video_marks
    groups = stretch_checks.stretch_zeros(zeros.client_marks, zeros.video_marks, 0.005)
    for zero, pairs in groups:
        middle = float(np.median([p[1] for p in pairs]))
        m.marker_stretches.append((zero, pictures.shift_at(middle, 0.0), len(pairs)))
    main = max(m.marker_stretches, key=lambda g: g[2])
    m.video_zero = main[0] - main[1]
    m.video_zero_pairs = sum(g[2] for g in m.marker_stretches)
    m.video_zero_spread_ms = zeros.video_zero_spread_ms
    m.wav_zero, m.wav_zero_spread_ms = zeros.wav_zero, zeros.wav_zero_spread_ms
    m.marker_residuals_ms = marker_residuals(zeros.client_marks, zeros.video_marks, main[0])
    m.recording_started = telemetry.get("recordingStarted")
    m.product["audio_clock_lag_ms"] = audio_clock_lag_ms(telemetry.get("events", []))

    ai_checks = check_ai_track(ai, telemetry, wire, m.video_zero, fake_mic, m.wav_zero)
    m.chunks, m.silent_chunks, m.unheard = ai_checks.chunks, ai_checks.silent, ai_checks.unheard
    if ai_checks.last_end is not None:
        m.durations["last_ai_end_on_video"] = ai_checks.last_end

    # Check 5: the MP4's audio is the mixed WAV (and sits like the recording's audio: above).
    m.mixed_in_mp4 = sa.find_offset(mixed, mp4_audio, max_lag=0.1)
    return m


@dataclass
class Zeros:
    """Where a recording and the fake mic file start on one page load's client clock."""

    client_marks: list[float]
    video_marks: list[float]
    video_zero: float  # client-clock seconds of the recording's first frame
    video_zero_pairs: int
    video_zero_spread_ms: float | None
    wav_zero: float  # client-clock seconds of the fake mic file's sample 0
    wav_zero_spread_ms: float | None


def find_zeros(wire: WireLog, upload_audio: np.ndarray, fake_mic: FakeMic) -> Zeros:
    """The markers located in the streamed mic audio and in the recording's own audio."""
    marker = sa.chirp(SR)
    client_marks = [o.seconds for o in sa.find_markers(wire.mic_track(), marker, threshold=0.6)]
    video_marks = [o.seconds for o in sa.find_markers(upload_audio, marker, threshold=0.6)]
    video_zero, pairs = consensus_offset(client_marks, video_marks, tolerance=0.005)
    diffs = [x - y for x, y in pairs]
    wav_zero, wav_pairs = consensus_offset(client_marks, fake_mic.markers, tolerance=0.02)
    wav_diffs = [x - y for x, y in wav_pairs]
    return Zeros(
        client_marks=client_marks,
        video_marks=video_marks,
        video_zero=video_zero,
        video_zero_pairs=len(pairs),
        video_zero_spread_ms=(max(diffs) - min(diffs)) * 1000 if diffs else None,
        wav_zero=wav_zero,
        wav_zero_spread_ms=(max(wav_diffs) - min(wav_diffs)) * 1000 if wav_diffs else None,
    )


@dataclass
class AiTrackChecks:
    chunks: list[ChunkPlacement] = field(default_factory=list)
    silent: int = 0
    unheard: list[dict] = field(default_factory=list)
    last_end: float | None = None  # where the last heard AI audio ends in *_ai.wav (s)


def check_ai_track(
    ai: np.ndarray,
    telemetry: dict,
    wire: WireLog,
    origin: float,
    fake_mic: FakeMic,
    wav_zero: float,
) -> AiTrackChecks:
    """Checks 3 and 4 for one page load: where its AI chunks sit in *_ai.wav.

    ``origin`` is the client-clock time of *_ai.wav's sample 0 as the page load saw it
    (the video's true zero, moved back by where the video sits in the export).
    """
    out = AiTrackChecks()
    # The client queues AI chunks ahead of playback and reports each one as it is
    # scheduled. After a barge-in, the rest of that response (still queued, back to
    # back with the cut chunk) was never heard: it must not be in the recording.
    cuts = {int(i["seq"]): float(i["played_ms"]) for i in telemetry.get("interruptions", [])}
    scheduled = sorted(telemetry.get("aiScheduled", []), key=lambda s: s["seq"])
    by_seq = {int(s["seq"]): s for s in scheduled}
    never_heard: dict[int, list[int]] = {}
    for seq in cuts:
        if seq not in by_seq:
            continue
        run, prev = [], by_seq[seq]
        for item in scheduled:
            if item["seq"] <= seq:
                continue
            if abs(float(item["start"]) - (float(prev["start"]) + float(prev["duration"]))) > 0.002:
                break
            run.append(int(item["seq"]))
            prev = item
        never_heard[seq] = run
    skipped = {s for run in never_heard.values() for s in run}

    # Check 3, second half: every AI chunk where the client says it was heard.
    found_at: dict[int, float] = {}
    for item in scheduled:
        seq = int(item["seq"])
        if seq in skipped:
            continue
        if seq not in wire.tts:
            raise sa.AnalysisError(f"AI chunk {seq} was scheduled but never seen on the wire")
        template = wire.tts_samples(seq)
        if seq in cuts:
            template = template[: round(cuts[seq] / 1000 * SR)]
        expected = float(item["start"]) - origin
        if len(template) < SR // 100 or sa.rms(template) < CHUNK_MIN_RMS:
            out.silent += 1
            continue
        try:
            hit = sa.find_template(ai, template, expected=expected, window=CHUNK_SEARCH)
        except sa.AnalysisError:  # *_ai.wav ends before the place: not there
            hit = sa.Offset(seconds=float("nan"), score=0.0)
        if hit.score >= CHUNK_MIN_SCORE:
            found_at[seq] = hit.seconds
            out.chunks.append(
                ChunkPlacement(
                    seq, expected, hit.seconds, hit.score, (hit.seconds - expected) * 1000
                )
            )
        else:
            out.chunks.append(ChunkPlacement(seq, expected, None, hit.score, None))

    # Check 4: from each cut to the next AI audio that was heard, *_ai.wav is silent.
    heard_starts = [float(s["start"]) for s in scheduled if int(s["seq"]) not in skipped]
    for seq, played_ms in cuts.items():
        if seq not in by_seq:
            continue
        cut_client = float(by_seq[seq]["start"]) + played_ms / 1000
        chunk_start = found_at.get(seq, float(by_seq[seq]["start"]) - origin)
        cut_wav = chunk_start + played_ms / 1000
        later = [t for t in heard_starts if t > cut_client + 1e-4]
        next_wav = (min(later) - origin) if later else len(ai) / SR
        lo, hi = int(np.ceil((cut_wav + 0.002) * SR)), int(np.floor((next_wav - 0.002) * SR))
        segment = ai[max(lo, 0) : max(hi, 0)]
        dropped_unscheduled = sorted(
            s
            for s in wire.tts
            if s > seq and s not in by_seq and (not later or s < _seq_at(scheduled, min(later)))
        )
        out.unheard.append(
            {
                "seq": seq,
                "played_ms": played_ms,
                "cut_at_s": cut_wav,
                "next_ai_at_s": next_wav,
                "checked_s": len(segment) / SR,
                "peak_after_cut": float(np.max(np.abs(segment))) if segment.size else 0.0,
                "queued_never_played": never_heard.get(seq, []),
                "received_never_scheduled": dropped_unscheduled,
                "cut_client_s": cut_client,
                # How long after the candidate began speaking over the AI it fell silent.
                "reaction_ms": _barge_in_reaction(cut_client, fake_mic, wav_zero),
            }
        )
    heard = [s for s in scheduled if int(s["seq"]) not in skipped]
    if heard:
        last = max(heard, key=lambda s: float(s["start"]))
        played = cuts.get(int(last["seq"]))
        length = played / 1000 if played is not None else float(last["duration"])
        out.last_end = float(last["start"]) + length - origin

    return out


def _barge_in_reaction(cut_client: float, fake_mic: FakeMic, wav_zero: float) -> float | None:
    """Cut time minus the start of the barge-in utterance (client clock), in ms."""
    starts = [c.start + wav_zero for c in fake_mic.cues if c.kind == "barge_in"]
    before = [t for t in starts if t <= cut_client]
    return (cut_client - max(before)) * 1000 if before else None


def _seq_at(scheduled: list[dict], start: float) -> int:
    return next(int(s["seq"]) for s in scheduled if float(s["start"]) == start)


def spool_counts(spool_dir: Path) -> dict:
    """How the server's AI chunks were placed: by playback telemetry, by fallback, or dropped.

    Read straight from the spool index (server-side truth, not the product's summary):
    a chunk after a cut in the same response is dropped whatever its telemetry says.
    """
    counts = {"ai_chunks": 0, "with_telemetry": 0, "after_cut": 0, "fallback": 0, "sessions": 0}
    for index in sorted(spool_dir.glob("*/index.jsonl")):
        counts["sessions"] += 1
        ai: dict[int, str] = {}
        played: set[int] = set()
        cuts: dict[int, float] = {}
        for line in index.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("k") == "ai":
                ai.setdefault(rec["seq"], rec.get("resp", ""))
            elif rec.get("k") == "ai_played":
                played.add(rec["seq"])
            elif rec.get("k") == "ai_cut":
                cuts[rec["seq"]] = rec["played_ms"]
        cut_responses = {ai.get(seq): seq for seq in cuts if seq in ai}
        for seq, resp in ai.items():
            counts["ai_chunks"] += 1
            if resp in cut_responses and seq > cut_responses[resp]:
                counts["after_cut"] += 1
            elif seq in played:
                counts["with_telemetry"] += 1
            else:
                counts["fallback"] += 1
    return counts


def report(m: Measurements) -> str:
    """The human table and the one machine-readable SYNC line."""
    stats = m.ai_stats() or {"p50": float("nan"), "p95": float("nan"), "max": float("nan")}
    mic_ms = m.mic_offset.ms if m.mic_offset else float("nan")
    rec_err = (
        (m.recording_started - m.video_zero) * 1000
        if m.recording_started is not None and m.video_zero is not None
        else float("nan")
    )
    prod = m.product
    rows = [
        (
            "recorded as",
            f"{m.codecs.get('mime_type')} → MP4 {m.codecs.get('mp4_video')}+{m.codecs.get('mp4_audio')}",
        ),
        (
            "MP4 / recording length",
            f"{m.durations['mp4']['video_span']:.3f} s / {m.durations['upload']['video_span']:.3f} s",
        ),
        (
            "mic offset: voice − picture in the MP4, worst window",
            f"{mic_ms:+.2f} ms (score {m.mic_offset.score:.3f}) over {len(m.windows)} windows",
        ),
        (
            "recording audio vs *_mic.wav, per window",
            " ".join(f"{w.start:.0f}s:{w.sound_ms:+.1f}" for w in m.windows) + " ms",
        ),
        (
            "MP4 pictures vs recording, per window",
            " ".join(f"{w.start:.0f}s:{w.picture_ms:+.1f}" for w in m.windows) + " ms",
        ),
        (
            "marker groups: zero, picture shift, pairs",
            "; ".join(f"{z:.4f} s, {p * 1000:+.1f} ms, {n}" for z, p, n in m.marker_stretches),
        ),
        (
            "video zero on client clock (markers)",
            f"{m.video_zero:.4f} s from {m.video_zero_pairs} markers, spread {m.video_zero_spread_ms:.2f} ms",
        ),
        (
            "each marker against its largest group's zero",
            " ".join("–" if r is None else f"{r:+.2f}" for r in m.marker_residuals_ms) + " ms",
        ),
        (
            "page's audio clock behind real time, at most",
            f"{prod['audio_clock_lag_ms']:.0f} ms"
            if prod.get("audio_clock_lag_ms") is not None
            else "n/a",
        ),
        ("recording_started − true zero", f"{rec_err:+.2f} ms"),
        ("product's measured zero − true zero", _ms(prod.get("measured_offset"), m.video_zero)),
        (
            "product's stretches (recording s: shift, cause)",
            "; ".join(
                f"{r['start']:.1f}–{r['end']:.1f}: {r['shift_ms']:+.1f} ms"
                + (f", {r['cause']}" if r.get("cause") else "")
                for r in prod.get("stretches") or []
            )
            or "n/a",
        ),
        (
            "fake mic file zero on client clock",
            f"{m.wav_zero:.4f} s, marker spread {m.wav_zero_spread_ms:.2f} ms",
        ),
        (
            "AI offset p50 / p95 / max",
            f"{stats['p50']:.2f} / {stats['p95']:.2f} / {stats['max']:.2f} ms over {len(m.placed)} chunks",
        ),
        ("AI chunks silent (not placeable) / not found", f"{m.silent_chunks} / {len(m.missing)}"),
        (
            "placed by telemetry / by fallback",
            f"{m.placement_counts.get('with_telemetry')} / {m.placement_counts.get('fallback')} (dropped after a cut: {m.placement_counts.get('after_cut')})",
        ),
        (
            "barge-in cuts",
            ", ".join(
                f"seq {u['seq']} after {u['played_ms']:.0f} ms, {len(u['queued_never_played'])} queued + {len(u['received_never_scheduled'])} unscheduled chunks never played"
                for u in m.unheard
            )
            or "none",
        ),
        (
            "barge-in: AI silenced after candidate spoke",
            ", ".join(
                f"{u['reaction_ms']:.0f} ms" for u in m.unheard if u.get("reaction_ms") is not None
            )
            or "n/a",
        ),
        (
            "AI audio after the cut (peak)",
            ", ".join(f"{u['peak_after_cut']:.5f} over {u['checked_s']:.2f} s" for u in m.unheard)
            or "n/a",
        ),
        (
            "*_mixed.wav inside the MP4",
            f"{m.mixed_in_mp4.ms:+.3f} ms (score {m.mixed_in_mp4.score:.3f})",
        ),
        (
            "MP4 audio vs recording audio",
            f"{m.mp4_vs_upload.ms:+.2f} ms (check 2 gave {mic_ms:+.2f} ms)",
        ),
        ("browser audio latency (not in the clock)", _latency(prod.get("audio_latency"))),
        (
            "export time (upload done → MP4 ready)",
            f"{m.export_seconds:.2f} s" if m.export_seconds is not None else "n/a",
        ),
    ]
    width = max(len(k) for k, _ in rows)
    lines = ["", "== sync report " + "=" * 60]
    lines += [f"{k.ljust(width)}  {v}" for k, v in rows]
    lines.append(
        f"SYNC mic_offset_ms={mic_ms:.2f} ai_p50_ms={stats['p50']:.2f} "
        f"ai_p95_ms={stats['p95']:.2f} ai_max_ms={stats['max']:.2f}"
    )
    return "\n".join(lines)


def _latency(value: dict | None) -> str:
    if not value:
        return "n/a"
    return f"base {value['base'] * 1000:.1f} ms, output {value['output'] * 1000:.1f} ms"


def _ms(value: float | None, reference: float | None) -> str:
    if value is None or reference is None:
        return "n/a"
    return f"{(value - reference) * 1000:+.2f} ms"
