"""The admin's review page and interview list: what a reviewer sees, and the review they save."""

import datetime as dt
import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from interviews import review
from interviews.models import Candidate, Interview, Job, Review, TranscriptEntry
from media_export import recording
from media_export.models import MediaExport
from media_export.uploads import WEBM_MAGIC

pytestmark = pytest.mark.django_db

EndReason = Interview.EndReason
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def make_interview(name="Ada Lovelace", *, status="exported", end_reason="interviewer_finished",
                   seconds=330, answers=2) -> Interview:  # fmt: skip
    interview = Interview.objects.create(
        job=Job.objects.get_or_create(title="Backend Engineer")[0],
        candidate=Candidate.objects.create(name=name, email=f"{name.split()[0]}@example.com"),
        status=status,
        end_reason=end_reason,
        started_at=START,
        ended_at=START + dt.timedelta(seconds=seconds),
    )
    for n in range(answers):
        TranscriptEntry.objects.create(
            interview=interview, role="interviewer", text=f"Question {n}?", start_seconds=n * 20.0
        )
        TranscriptEntry.objects.create(
            interview=interview, role="candidate", text=f"Answer {n}.", start_seconds=n * 20.0 + 5
        )
    return interview


@pytest.fixture
def boss(client):
    user = User.objects.create_superuser("boss", "boss@example.com", "pw-123-secret")
    client.force_login(user)
    return user


def change_url(interview) -> str:
    return reverse("admin:interviews_interview_change", args=[interview.pk])


def test_the_page_places_the_transcript_on_the_recordings_time(client, boss):
    interview = make_interview(answers=0)
    interview.video_url = f"/media/uploads/videos/{interview.pk}.mp4"
    interview.latency = {"turns": 3, "voice_to_voice_ms": {"p50": 1180, "p95": 1400, "n": 3}}
    interview.save()
    TranscriptEntry.objects.create(
        interview=interview, role="candidate", text="I fixed the cache.", start_seconds=175.3426
    )
    TranscriptEntry.objects.create(interview=interview, role="interviewer", text="No time.")
    MediaExport.objects.create(
        interview=interview,
        timeline_zero=100.0,
        timeline={
            "duration": 90.0,
            "mic": [[60.0, 75.0]],
            "ai": [[75.6, 80.0]],
            "turns": [{"mic_end": 75.0, "ai_start": 75.612, "latency_ms": 612}],
        },
    )
    html = client.get(change_url(interview)).content.decode()
    # 175.3426 s on the client clock is 75.343 s into an MP4 that starts at 100 s.
    line = re.search(r'<li class="line line-candidate" data-at="([\d.]+)">', html)
    assert line and line.group(1) == "75.343"
    assert 'data-seek="75.343"' in html and "1:15" in html
    assert '<li class="line line-interviewer">' in html  # no start time: shown, not seekable
    assert 'id="review-video"' in html and interview.video_url in html
    # The picture says how to turn a click into a time.
    assert 'data-duration="90.0" data-left="70" data-plot-width="880"' in html
    # Latency as tables, not JSON.
    assert ">612</td>" in html and ">1180</td>" in html and "voice_to_voice_ms" not in html
    # Facts are read-only: no field to change the status or the job above the media.
    assert 'name="status"' not in html and 'name="job"' not in html
    assert 'name="rating"' in html and 'name="decision"' in html


def test_the_details_cannot_be_changed_here(client, boss):
    interview = make_interview()
    response = client.post(change_url(interview), {"status": "invited", "job": 1})
    assert response.status_code == 403
    interview.refresh_from_db()
    assert interview.status == "exported"
    assert client.get(reverse("admin:interviews_interview_add")).status_code == 200


def test_saving_a_review_keeps_reviewer_and_time_and_replaces_their_last(client, boss):
    interview = make_interview()
    response = client.post(
        change_url(interview),
        {"save_review": "1", "rating": "4", "decision": "advance", "notes": "Clear answers."},
    )
    assert response.status_code == 302 and response["Location"].endswith("#review")
    first = Review.objects.get()
    assert (first.reviewer, first.rating, first.decision) == (boss, 4, "advance")
    assert first.updated_at is not None
    client.post(
        change_url(interview), {"save_review": "1", "rating": "2", "decision": "hold", "notes": ""}
    )
    again = Review.objects.get()
    assert again.pk == first.pk and (again.rating, again.decision) == (2, "hold")
    assert again.updated_at > first.updated_at
    html = client.get(change_url(interview)).content.decode()
    assert "Review saved." in html
    assert '<input type="radio" name="rating" value="2"' in html
    assert re.search(r'value="2"[^>]*checked', html)  # the form opens on the reviewer's own review


def test_a_bad_review_is_refused_and_loses_nothing(client, boss):
    interview = make_interview()
    response = client.post(
        change_url(interview),
        {"save_review": "1", "rating": "9", "decision": "maybe", "notes": "Long careful notes."},
    )
    assert response.status_code == 400
    assert not Review.objects.exists()
    html = response.content.decode()
    assert "nothing was saved" in html and "Long careful notes." in html
    assert "Select a valid choice" in html


def test_notes_longer_than_a_page_are_refused(client, boss):
    interview = make_interview()
    response = client.post(
        change_url(interview),
        {"save_review": "1", "rating": "3", "decision": "hold", "notes": "x" * 10_001},
    )
    assert response.status_code == 400 and not Review.objects.exists()
    assert "at most 10000 characters" in response.content.decode()


def test_reviewing_needs_the_review_permission(client):
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_interview"))
    client.force_login(viewer)
    interview = make_interview()
    html = client.get(change_url(interview)).content.decode()
    assert "Answer 1." in html and 'name="rating"' not in html and "No review yet." in html
    response = client.post(
        change_url(interview), {"save_review": "1", "rating": "5", "decision": "advance"}
    )
    assert response.status_code == 403 and not Review.objects.exists()


def test_the_list_shows_review_duration_answers_and_early_ends(client, boss):
    complete = make_interview("Ada Lovelace", seconds=330, answers=3)
    early = make_interview("Bo Early", end_reason=EndReason.CANDIDATE_ENDED, seconds=14, answers=1)
    review.save_review(interview=complete, reviewer=boss, rating=4, decision="advance")
    html = client.get(reverse("admin:interviews_interview_changelist")).content.decode()
    rows = {
        name: re.search(rf"<tr>.*?{name}.*?</tr>", html, re.S).group(0)
        for name in ("Ada Lovelace", "Bo Early")
    }
    assert "outcome-complete" in rows["Ada Lovelace"] and "Complete" in rows["Ada Lovelace"]
    assert "outcome-early" in rows["Bo Early"] and "Ended early" in rows["Bo Early"]
    assert "Ended by the candidate" in rows["Bo Early"]
    assert "5:30" in rows["Ada Lovelace"] and "0:14" in rows["Bo Early"]
    assert '<td class="field-answer_count">3</td>' in rows["Ada Lovelace"]
    assert '<td class="field-answer_count">1</td>' in rows["Bo Early"]
    assert "4/5" in rows["Ada Lovelace"] and "Advance" in rows["Ada Lovelace"]
    assert "Not reviewed" in rows["Bo Early"]
    assert early.pk != complete.pk


def test_the_list_shows_the_latest_review(client, boss):
    interview = make_interview()
    other = User.objects.create_user("second", is_staff=True)
    review.save_review(interview=interview, reviewer=boss, rating=4, decision="advance")
    review.save_review(interview=interview, reviewer=other, rating=1, decision="reject")
    (row,) = review.with_list_figures(Interview.objects.filter(pk=interview.pk))
    assert (row.review_rating, row.review_decision, row.answer_count) == (1, "reject", 2)


def test_recording_segments_are_listed_when_parts_arrived(client, boss):
    interview = make_interview()
    html = client.get(change_url(interview)).content.decode()
    assert "Recording segments" not in html  # nothing uploaded, nothing shown
    header = WEBM_MAGIC + b"\0" * 1020
    for n in range(2):  # segment 0: two parts, completed by the page
        recording.store_part(interview.pk, 0, n, header if n == 0 else b"x" * 1024)
    recording.mark_complete(interview.pk, 0, 2)
    for n in (0, 2):  # segment 1 (after a reload): part 1 never arrived
        recording.store_part(interview.pk, 1, n, header)
    recording.mark_complete(interview.pk, 1, 3)
    recording.store_part(interview.pk, 2, 0, header)  # segment 2: the page went away
    html = client.get(change_url(interview)).content.decode()
    assert "Recording segments" in html
    cells = r'</th><td class="num">{}</td><td class="num">{}</td><td>{}</td>'
    assert re.search("Segment 1" + cells.format(2, "2.0.KB", "Complete"), html)
    assert re.search("Segment 2" + cells.format(2, "2.0.KB", "Parts missing: 1"), html)
    assert re.search(
        "Segment 3"
        + cells.format(1, "1.0.KB", "Not completed: the page was reloaded or closed first"),
        html,
    )


def test_the_segments_places_and_the_gap_between_them_are_shown(client, boss):
    interview = make_interview()
    interview.video_url = f"/media/uploads/videos/{interview.pk}.mp4"
    interview.save()
    header = WEBM_MAGIC + b"\0" * 1020
    for segment in (0, 1):  # a reload: two segments
        recording.store_part(interview.pk, segment, 0, header)
    place = {"alignment": "measured", "confidence": 0.9}
    MediaExport.objects.create(
        interview=interview,
        timeline_zero=10.0,
        timeline={"duration": 71.0, "mic": [[1.0, 3.0]], "ai": [], "cuts": [], "turns": []},
        segment_timeline=[
            {"segment": 0, "session_id": "a", "start": 0.0, "end": 40.2, **place},
            {"segment": 1, "session_id": "b", "start": 43.7, "end": 71.0, **place},
        ],
    )
    html = client.get(change_url(interview)).content.decode()
    # The picture shades the stretch without video, and says so.
    assert html.count('class="gap"') == 1 and "no video 40.20–43.70 s" in html
    assert "shaded: no video" in html
    # Each segment's row: where it plays in the MP4 (a seek button) and the gap before it.
    row = r'<td><button type="button" class="time-seek" data-seek="{}">{}</button></td>'
    row += r'<td class="num">{}</td>'
    assert re.search("Segment 1</th>.*?" + row.format("0.000", "0:00–0:40", "–"), html)
    assert re.search("Segment 2</th>.*?" + row.format("43.700", "0:43–1:11", "3.5 s"), html)


def test_a_still_frame_says_why(client, boss):
    interview = make_interview()
    interview.video_url = f"/media/uploads/videos/{interview.pk}.mp4"
    interview.save()
    MediaExport.objects.create(interview=interview, no_video_reason="the camera was refused")
    html = client.get(change_url(interview)).content.decode()
    assert "shows a still frame over the audio: the camera was refused" in html


def test_usage_is_shown_only_when_the_interview_records_it(settings):
    settings.OPENAI_PRICES = {"audio_input": 32.0, "audio_output": 64.0}
    interview = make_interview()
    assert review.usage_rows(interview) == []
    interview.usage = {"responses": 2, "audio_input_tokens": 1000, "audio_output_tokens": 500}
    assert review.usage_rows(interview) == [
        ("Responses", 2),
        ("Audio input tokens", 1000),
        ("Audio output tokens", 500),
        ("Estimated cost (USD)", "0.0640"),
    ]


@pytest.mark.parametrize(
    ("status", "end_reason", "kind"),
    [
        ("exported", "interviewer_finished", "complete"),
        ("completed", "time_limit", "early"),
        ("exported", "abandoned", "early"),
        ("failed", "provider_failed", "failed"),
        ("in_progress", "", "open"),
    ],
)
def test_outcome_kinds(status, end_reason, kind):
    interview = Interview(status=status, end_reason=end_reason)
    assert review.outcome(interview).kind == kind


def test_lines_without_a_start_time_come_last_on_every_database():
    interview = make_interview(answers=0)
    TranscriptEntry.objects.create(interview=interview, role="interviewer", text="Unplaced.")
    TranscriptEntry.objects.create(
        interview=interview, role="candidate", text="Second.", start_seconds=9.0
    )
    TranscriptEntry.objects.create(
        interview=interview, role="interviewer", text="First.", start_seconds=2.0
    )
    lines = review.transcript_lines(interview, zero=1.0)
    assert [(line.text, line.at) for line in lines] == [
        ("First.", 1.0),
        ("Second.", 8.0),
        ("Unplaced.", None),
    ]
