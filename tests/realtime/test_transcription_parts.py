"""The parts of speech-to-text: verified models, the bounded service, turn audio, WER."""

import hashlib
import logging
import threading

import pytest

from realtime.providers.base import SessionSeed
from realtime.providers.local import LocalInterviewer, LocalTiming
from realtime.transcription import models
from realtime.transcription.models import ModelUnavailable, PackagedModel, packaged_model, resolve
from realtime.transcription.quality import normalise, word_error_rate
from realtime.transcription.service import (
    QueueFull,
    Transcriber,
    TranscriberConfig,
    TranscriberUnavailable,
    get_transcriber,
    load_at_startup,
)
from realtime.transcription.turns import BYTES_PER_MS, TurnAudio

from .helpers import chunks, silence_pcm, speech_pcm

# -- models ------------------------------------------------------------------------------


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def split_model(tmp_path, monkeypatch):
    """Two installed packages holding a model.bin in halves, like whisper-base's wheels."""
    site = tmp_path / "site"
    halves = (b"first half " * 1000, b"second half " * 1000)
    support = {name: f"{name} contents".encode() for name in models.SUPPORT_FILES}
    for index, half in enumerate(halves, 1):
        data = site / f"fake_model_part{index}" / "data"
        data.mkdir(parents=True)
        (data.parent / "__init__.py").write_text("")
        (data / f"model.bin.part{index}").write_bytes(half)
    for name, content in support.items():
        (site / "fake_model_part1" / "data" / name).write_bytes(content)
    monkeypatch.syspath_prepend(str(site))
    spec = PackagedModel(
        name="fake",
        model_parts=(
            ("fake_model_part1", "data/model.bin.part1"),
            ("fake_model_part2", "data/model.bin.part2"),
        ),
        support=("fake_model_part1", "data"),
        sha256={"model.bin": sha(b"".join(halves))}
        | {name: sha(content) for name, content in support.items()},
    )
    return spec, site, halves


def test_split_model_is_joined_once_and_checked(split_model, tmp_path):
    spec, _site, halves = split_model
    source = packaged_model(spec, tmp_path / "cache")
    assert (source.directory / "model.bin").read_bytes() == b"".join(halves)
    assert (source.directory / "tokenizer.json").read_bytes() == b"tokenizer.json contents"
    mtime = (source.directory / "model.bin").stat().st_mtime_ns
    again = packaged_model(spec, tmp_path / "cache")
    assert again.directory == source.directory
    assert (again.directory / "model.bin").stat().st_mtime_ns == mtime  # reused, not rewritten


def test_a_damaged_cached_copy_is_joined_again(split_model, tmp_path):
    spec, _site, halves = split_model
    source = packaged_model(spec, tmp_path / "cache")
    (source.directory / "model.bin").write_bytes(b"bit rot")
    again = packaged_model(spec, tmp_path / "cache")
    assert (again.directory / "model.bin").read_bytes() == b"".join(halves)


def test_a_swapped_part_is_refused(split_model, tmp_path):
    spec, site, _halves = split_model
    (site / "fake_model_part2" / "data" / "model.bin.part2").write_bytes(b"something else")
    with pytest.raises(ModelUnavailable, match="SHA-256"):
        packaged_model(spec, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("fake*"))  # nothing half-written is left


def test_an_unwritable_cache_still_loads_from_memory(split_model, tmp_path):
    spec, _site, halves = split_model
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    source = packaged_model(spec, blocked / "cache")
    assert source.directory is None and source.files["model.bin"] == b"".join(halves)


def test_a_missing_package_or_support_file_is_refused(split_model, tmp_path):
    spec, site, _halves = split_model
    (site / "fake_model_part1" / "data" / "tokenizer.json").unlink()
    with pytest.raises(ModelUnavailable, match="missing"):
        packaged_model(spec, tmp_path / "cache")
    other = PackagedModel(
        "gone", (("no_such_package_here", "x"),), ("no_such_package_here", "x"), {}
    )
    with pytest.raises(ModelUnavailable, match="not installed"):
        packaged_model(other, tmp_path / "cache")


def test_settings_choose_the_model(tmp_path):
    with pytest.raises(ModelUnavailable, match="switched off"):
        resolve("off", None, tmp_path)
    with pytest.raises(ModelUnavailable, match="unknown model"):
        resolve("whisper-huge", None, tmp_path)
    own = tmp_path / "own"
    own.mkdir()
    for name in ("model.bin", "config.json"):
        (own / name).write_bytes(b"x")
    with pytest.raises(ModelUnavailable, match=r"lacks tokenizer\.json"):
        resolve("whisper-base", str(own), tmp_path)
    (own / "tokenizer.json").write_bytes(b"{}")
    assert resolve("whisper-base", str(own), tmp_path).directory == own


@pytest.mark.parametrize("choice", ["whisper-base", "whisper-tiny"])
def test_the_installed_model_wheels_match_their_pinned_digests(choice, tmp_path):
    source = resolve(choice, None, tmp_path / "cache")
    assert source.directory is not None and (source.directory / "model.bin").is_file()


# -- the service ---------------------------------------------------------------------------


class Held(Transcriber):
    """The real service with the model call held until ``release`` (the bound is the point)."""

    def __init__(self, config):
        super().__init__(config)
        self.release = threading.Event()

    def _run(self, pcm):
        self.release.wait(30)
        return super()._run(pcm)


def test_switched_off_refuses_at_once():
    transcriber = Transcriber(TranscriberConfig(choice="off"))
    with pytest.raises(TranscriberUnavailable, match="switched off"):
        transcriber.submit(silence_pcm(100))
    assert transcriber.pending == 0


def test_the_queue_is_bounded_and_frees_its_places(tmp_path):
    config = TranscriberConfig(choice="whisper-tiny", cache_dir=tmp_path, queue_limit=2)
    transcriber = Held(config)
    try:
        first = transcriber.submit(speech_pcm("Hello there."))
        second = transcriber.submit(silence_pcm(500))
        with pytest.raises(QueueFull):
            transcriber.submit(silence_pcm(500))
        assert transcriber.pending == 2
        transcriber.release.set()
        assert "hello" in first.result(60).text.lower()
        second.result(60)
        assert transcriber.pending == 0
        assert transcriber.submit(silence_pcm(500)).result(60).audio_seconds == 0.5
    finally:
        transcriber.release.set()
        transcriber.close(wait=True)


def test_an_unusable_model_is_reported_once(tmp_path, caplog):
    config = TranscriberConfig(choice="whisper-base", model_dir=str(tmp_path / "nothing"))
    transcriber = Transcriber(config)
    with caplog.at_level(logging.ERROR, logger="realtime.transcription"):
        assert transcriber.wait_ready(30) is False
        for _ in range(3):
            with pytest.raises(TranscriberUnavailable, match=r"lacks model\.bin"):
                transcriber.submit(silence_pcm(100))
    assert len(caplog.records) == 1
    assert "transcribe_interview" in caplog.records[0].getMessage()
    transcriber.close(wait=True)


def test_a_server_loads_the_model_at_startup_and_reports_a_problem_once(settings, tmp_path, caplog):
    settings.TRANSCRIPTION = "whisper-tiny"
    settings.VAR_DIR = tmp_path
    load_at_startup()
    transcriber = get_transcriber()
    assert transcriber.wait_ready(60) and transcriber.model_label == "whisper-tiny"
    settings.TRANSCRIPTION_MODEL_DIR = str(tmp_path / "missing")
    with caplog.at_level(logging.ERROR, logger="realtime.transcription"):
        load_at_startup()
        broken = get_transcriber()
        assert broken.wait_ready(60) is False
        with pytest.raises(TranscriberUnavailable):  # the first interview: no second error
            broken.submit(silence_pcm(100))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "lacks model.bin" in errors[0].getMessage()
    for t in (transcriber, broken):
        t.close(wait=True)


# -- turn audio ----------------------------------------------------------------------------


def ms_of(n: int) -> bytes:
    """``n`` ms of audio whose every sample names its millisecond (for checking cuts)."""
    return b"".join((i % 30000).to_bytes(2, "little") * (BYTES_PER_MS // 2) for i in range(n))


def test_turn_audio_reaches_back_for_the_prefix_and_cuts_by_milliseconds():
    audio = TurnAudio(keep_ms=1000)
    source = ms_of(5000)
    audio.append(source[: 3000 * BYTES_PER_MS])
    audio.start_turn(2200)  # starts before the detector was sure: still kept
    audio.append(source[3000 * BYTES_PER_MS :])
    assert audio.held_ms == 2800
    first = audio.take(2500)
    assert first == source[2200 * BYTES_PER_MS : 2500 * BYTES_PER_MS]
    rest = audio.end_turn(4200)
    assert rest == source[2500 * BYTES_PER_MS : 4200 * BYTES_PER_MS]
    assert audio.held_ms == 0 and audio.received_ms == 5000
    audio.start_turn(100)  # older than what is kept: the turn starts at the oldest kept
    assert audio.take(4100) == b""  # already given away: nothing twice
    assert audio.end_turn(5000) == source[4200 * BYTES_PER_MS :]


def test_turn_audio_keeps_only_recent_audio_between_turns():
    audio = TurnAudio(keep_ms=1000)
    for _ in range(100):
        audio.append(silence_pcm(100))
    audio.start_turn(0)
    assert audio.held_ms == 1000


# -- a long turn through the provider --------------------------------------------------------

TRANSCRIPTION = "conversation.item.input_audio_transcription."


async def test_a_long_answer_is_transcribed_in_parts_with_deltas(tmp_path):
    sentences = [
        "I led the move of our billing system to a new database.",
        "We copied the data in the background while the old system kept running.",
        "Every night we compared both databases and fixed the differences.",
        "After three weeks the numbers matched, and we switched over on a Sunday.",
        "Nobody noticed the change, which was exactly the goal.",
    ]
    pause = silence_pcm(300)  # shorter than the hangover: one turn, cut at these pauses
    answer = pause.join(speech_pcm(s) for s in sentences)
    transcriber = Transcriber(TranscriberConfig(choice="whisper-tiny", cache_dir=tmp_path))
    provider = LocalInterviewer(
        timing=LocalTiming(speed=40.0, segment_ms=8000, transcript_wait_s=300.0),
        transcriber=transcriber,
    )
    await provider.start(SessionSeed(questions=["Tell me about a migration."]))
    for piece in chunks(silence_pcm(1000) + answer + silence_pcm(1500)):
        await provider.append_audio(piece)
    events = []
    async for event in provider.events():
        events.append(event)
        if event["type"].startswith(TRANSCRIPTION) and not event["type"].endswith(".delta"):
            break
    await provider.close()
    transcriber.close(wait=True)
    stopped = [e for e in events if e["type"] == "input_audio_buffer.speech_stopped"]
    assert len(stopped) == 1  # one turn
    deltas = [e for e in events if e["type"] == TRANSCRIPTION + "delta"]
    done = events[-1]
    assert done["type"] == TRANSCRIPTION + "completed", done
    assert len(deltas) >= 2 and done["transcript"] == "".join(d["delta"] for d in deltas)
    assert {e["item_id"] for e in [*deltas, done]} == {stopped[0]["item_id"]}
    assert done["content_index"] == 0 and done["usage"]["type"] == "duration"
    assert abs(done["usage"]["seconds"] - len(answer) / 48000) < 1.0
    assert word_error_rate(" ".join(sentences), done["transcript"]) <= 0.25, done["transcript"]
    item_done = next(e for e in events if e["type"] == "conversation.item.done")
    assert item_done["item"]["content"] == [{"type": "input_audio", "transcript": None}]


# -- word error rate -------------------------------------------------------------------------


def test_word_error_rate_ignores_case_punctuation_and_digit_spelling():
    assert normalise("Testing, one-two 3! It's 42.") == [
        "testing",
        "one",
        "two",
        "three",
        "it's",
        "forty",
        "two",
    ]
    assert word_error_rate("the cat sat", "The cat, sat.") == 0
    assert word_error_rate("the cat sat", "the hat sat down") == pytest.approx(2 / 3)
    assert word_error_rate(["a b", "c d"], ["a b", "x"]) == pytest.approx(2 / 4)
    with pytest.raises(ValueError):
        word_error_rate("", "words")
