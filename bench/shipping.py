"""Shipping benchmark: what moving the spool to object storage costs per live session.

A simulated interview is written through the real ``SpoolWriter`` (mic: a 100 ms chunk
every 100 ms; the interviewer speaks 40 % of the time in 100 ms deltas, each reported
as played; a few speech marks per turn) and shipped by the real ``SpoolShipper`` every
``SPOOL_SHIP_SECONDS`` of interview time, into an S3 bucket served by moto on loopback.
Every HTTP request the S3 client sends is counted. Figures: spool bytes per second of
interview, object-store requests and bytes per interview-minute, database rows per
minute, and CPU time of the shipping thread (not the S3 server), with the same figures at a 2 s period for
comparison. The capacity for 10,000 concurrent interviews follows from them.

Run: ``SECRET_KEY=x .venv/bin/python bench/shipping.py [--minutes 5]``.
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SR = 24000
CHUNK = 2400
GOAL_REQUESTS_PER_MINUTE = 10.0  # an S3 PUT costs about $5 per million: 10/min is $0.003/h
GOAL_SPOOL_BYTES_PER_SECOND = 100_000
CONCURRENT = 10_000


def setup(tmp: Path, endpoint: str, bucket: str) -> None:
    os.environ.update(
        VAR_DIR=str(tmp / "var"),
        MEDIA_ROOT=str(tmp / "media"),
        MEDIA_STORAGE="s3",
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=endpoint,
        AWS_S3_REGION_NAME="us-east-1",
        AWS_S3_ADDRESSING_STYLE="path",
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        LOG_LEVEL="WARNING",
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "interviewsite.settings")
    (tmp / "var").mkdir()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def simulate(interview_id: int, session: str, minutes: float, ship_every: float) -> dict:
    import numpy as np
    from django.core.files.storage import storages

    from media_export.shipping import SpoolShipper
    from media_export.spool import SpoolWriter

    requests = {"n": 0}
    client = storages["default"].connection.meta.client
    client.meta.events.register(
        "before-send.s3", lambda **_: requests.__setitem__("n", requests["n"] + 1)
    )
    rng = np.random.default_rng(1)
    mic = rng.integers(-3000, 3000, CHUNK, dtype=np.int16).tobytes()
    writer = SpoolWriter(interview_id, session, flush_seconds=float("inf"))
    shipper = SpoolShipper(writer)
    steps = round(minutes * 600)
    ai_seq, next_ship, ship_cpu, shipped_bytes, ships = 0, ship_every, 0.0, 0, 0
    for step in range(steps):
        t = step * 0.1
        writer.add_mic(step, t, mic)
        if (step // 50) % 5 < 2:  # the interviewer talks for 10 s of every 25 s
            writer.add_ai(ai_seq, t, mic, f"item{step // 250}", f"resp{step // 250}")
            writer.ai_played(ai_seq, t + 0.02)
            ai_seq += 1
        if step % 50 == 0:
            writer.event("speech_started", t, item_id=f"item{step // 250}")
        if t + 0.1 >= next_ship:
            before = time.thread_time()
            shipment = shipper.ship()
            ship_cpu += time.thread_time() - before
            shipped_bytes += shipment.size if shipment else 0
            ships += 1 if shipment else 0
            next_ship += ship_every
    writer.end()
    before = time.thread_time()
    final = shipper.ship()
    ship_cpu += time.thread_time() - before
    shipped_bytes += final.size if final else 0
    writer.close()
    seconds = steps * 0.1
    spool_bytes = sum(writer.position())
    from media_export.models import SpoolSegment

    rows = SpoolSegment.objects.filter(interview_id=interview_id, session_id=session).count()
    return {
        "spool_bps": spool_bytes / seconds,
        "requests_per_min": requests["n"] / (seconds / 60),
        "shipped_bps": shipped_bytes / seconds,
        "rows_per_min": rows / (seconds / 60),
        "cpu_per_min": ship_cpu / (seconds / 60),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    args = parser.parse_args()
    from tests.media_export.objectstore import moto_endpoint, new_bucket

    with tempfile.TemporaryDirectory() as tmp, moto_endpoint() as endpoint:
        bucket = new_bucket(endpoint)
        setup(Path(tmp), endpoint, bucket)
        from interviews.services import create_interview

        interview, _ = create_interview(
            job_title="Bench", candidate_name="B", candidate_email="b@x.io"
        )
        at10 = simulate(interview.pk, "ship-10s", args.minutes, 10.0)
        at2 = simulate(interview.pk, "ship-2s", args.minutes, 2.0)
    print(f"\nShipping the spool, a {args.minutes:g}-minute interview (moto S3 on loopback)\n")
    print("| Figure | every 10 s (default) | every 2 s | goal |")
    print("|---|---|---|---|")
    rows = [
        ("spool bytes/s per session", "spool_bps", "{:,.0f}", f"< {GOAL_SPOOL_BYTES_PER_SECOND:,}"),
        (
            "object-store requests per interview-minute",
            "requests_per_min",
            "{:.1f}",
            f"<= {GOAL_REQUESTS_PER_MINUTE:g}",
        ),
        ("bytes shipped/s per session", "shipped_bps", "{:,.0f}", "= spool bytes/s"),
        ("segment rows per interview-minute", "rows_per_min", "{:.1f}", ""),
        ("CPU ms shipping per interview-minute", "cpu_per_min", "{:.1f}", ""),
    ]
    for label, key, fmt, goal in rows:
        value = at10[key] * (1000 if key == "cpu_per_min" else 1)
        other = at2[key] * (1000 if key == "cpu_per_min" else 1)
        print(f"| {label} | {fmt.format(value)} | {fmt.format(other)} | {goal} |")
    n = CONCURRENT
    print(f"\nFor {n:,} concurrent interviews at the default period:")
    print(
        f"- storage ingress {at10['shipped_bps'] * n * 8 / 1e6:,.0f} Mbit/s "
        f"({at10['shipped_bps'] * n * 3600 / 1e12:.2f} TB per hour)"
    )
    print(f"- object-store PUTs {at10['requests_per_min'] * n / 60:,.0f}/s")
    print(f"- segment rows inserted {at10['rows_per_min'] * n / 60:,.0f}/s")
    print(f"- CPU for shipping {at10['cpu_per_min'] * n / 60:.1f} cores")
    ok = (
        at10["requests_per_min"] <= GOAL_REQUESTS_PER_MINUTE
        and at10["spool_bps"] < GOAL_SPOOL_BYTES_PER_SECOND
    )
    print("\nGoals met" if ok else "\nGOAL MISSED")


if __name__ == "__main__":
    main()
