"""Data Explorer benchmark: 1,000,000 tasks on SQLite and on PostgreSQL.

For each database: seed time, p50/p95/max latency of each typical list call (every sortable
column under each common filter, deep pages and a few combinations, measured in-process
through the full Django/DRF stack) against its own goal (p95 <= 50 ms up to a million tasks,
<= 100 ms beyond), then the full CSV export
downloaded from a real daphne process (rows/s and server RSS growth). On PostgreSQL the same
rows are also written by the server's own ``COPY (SELECT ...) TO STDOUT WITH CSV``: the limit
an export could reach.

Run: ``SECRET_KEY=x .venv/bin/python bench/explorer.py [--tasks N] [--skip-sqlite]
[--skip-postgres] [--postgres-db NAME] [--keep DIR]``. PostgreSQL comes from BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/postgres); a database (``explorer_bench`` unless named) is
created there and dropped afterwards (``--keep``: kept, and measured again on the next run
without seeding). ``make bench-explorer-10m`` runs ten million tasks.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from _explorer_report import report

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "admin_explorer"))

MB = 1024 * 1024


# --------------------------------------------------------------------------- worker side
#: The sortable columns, each with the direction the page offers first for it.
SORTS = [
    ("created_at", "desc"),
    ("updated_at", "desc"),
    ("task_name", "asc"),
    ("status", "asc"),
    ("quality_rating", "desc"),
    ("project_title", "asc"),
    ("dataset_title", "asc"),
    ("annotator_name", "asc"),
]


def common_filters(ids: dict) -> list[tuple[str, dict]]:
    """The filters people combine most: each is listed under every sort column."""
    top, second, third = ids["annotators"][:3]
    return [
        ("all", {}),
        ("3 annotators", {"annotator": f"{top},{second},{third}"}),
        ("3 projects", {"project": ",".join(str(p) for p in ids["projects"][:3])}),
        ("tag audio", {"tags": "audio"}),
        ("status approved+rejected", {"status": "approved,rejected"}),
        ("one month", {"created_from": ids["month_start"], "created_to": ids["month_end"]}),
        ("search 'rossi'", {"search": "rossi"}),
    ]


def typical_calls(ids: dict) -> list[tuple[str, dict]]:
    """Every sort column (both directions across the list) under each common filter, then
    deep pages and the combinations that used to be slow."""
    big, small = ids["projects"][0], ids["projects"][-1]
    top, second, third = ids["annotators"][:3]
    last_page = max(1, ids["tasks"] // 50)
    deep = min(2000, last_page // 2 or 1)  # small runs have fewer pages
    calls = []
    for n, (filter_label, params) in enumerate(common_filters(ids)):
        for m, (column, first_dir) in enumerate(SORTS):
            flip = (n + m) % 2 == 1
            direction = {"asc": "desc", "desc": "asc"}[first_dir] if flip else first_dir
            label = f"{filter_label} by {column} {direction}"
            calls.append((label, {**params, "sort_by": column, "sort_dir": direction}))
    return [
        *calls,
        (f"deep page {deep:,}", {"page": deep}),
        ("last page", {"page": last_page}),
        ("biggest project", {"project": big}),
        ("smallest project by rating", {"project": small, "sort_by": "quality_rating"}),
        ("top annotator", {"annotator": top}),
        ("tags audio AND english", {"tags": "audio,english"}),
        ("tags pii OR medical", {"tags": "pii,medical", "tags_mode": "any"}),
        ("search task name 'label intent 12'", {"search": "label intent 12"}),
        ("rating >= 4.5", {"rating_min": "4.5"}),
        ("in review + submitted, oldest update", {"status": "in_review,submitted", "sort_by": "updated_at", "sort_dir": "asc"}),
        ("sort by annotator, page 100", {"sort_by": "annotator_name", "sort_dir": "desc", "page": min(100, deep)}),
        ("3 annotators by updated, page 200", {"annotator": f"{top},{second},{third}", "sort_by": "updated_at", "page": min(200, deep)}),
        ("project+tag+status+dates by dataset", {"project": big, "tags": "audio", "status": "approved,rejected", "created_from": ids["year_start"], "sort_by": "dataset_title"}),
    ]  # fmt: skip


def run_worker(args) -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from admin_explorer import seeding
    from admin_explorer.models import AnnotationTask, Annotator
    from interviews.models import Job
    from interviewsite.memory import freeze_loaded_objects

    result: dict = {"backend": connection.vendor, "load_start": os.getloadavg()}
    call_command("migrate", verbosity=0)
    result["seed_s"] = None
    if AnnotationTask.objects.count() != args.tasks:  # a kept database is measured again
        started = time.monotonic()
        seeding.seed(args.tasks, seed_value=1)  # ends with ANALYZE (and VACUUM on PostgreSQL)
        result["seed_s"] = time.monotonic() - started

    from django.db.models import Count

    projects = list(
        Job.objects.annotate(n=Count("annotation_tasks"))
        .filter(n__gt=0)
        .order_by("-n")
        .values_list("pk", flat=True)
    )
    annotators = list(
        Annotator.objects.annotate(n=Count("tasks")).order_by("-n").values_list("pk", flat=True)[:3]
    )
    newest = (
        AnnotationTask.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    )
    ids = {
        "projects": projects,
        "annotators": annotators,
        "tasks": args.tasks,
        "month_start": f"{newest.year - 1}-{newest.month:02d}-01",
        "month_end": f"{newest.year - 1}-{newest.month:02d}-28",
        "year_start": f"{newest.year - 1}-01-01",
    }

    # Like interviewsite/asgi.py at startup: what is loaded now stays out of the collector's
    # full passes, so the timings are the requests', not the seeding's leftovers.
    freeze_loaded_objects()
    user = User.objects.filter(username="bench").first() or User.objects.create_user(
        "bench", password="unused-password-1", is_staff=True
    )
    client = Client()
    client.force_login(user)
    calls = []
    all_samples = []
    for label, params in typical_calls(ids):
        client.get("/api/admin/data", params)  # warm
        samples = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            response = client.get("/api/admin/data", params)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (label, response.content[:300])
        all_samples += samples
        calls.append(
            {
                "label": label,
                "params": params,
                "p50": statistics.median(samples),
                "p95": percentile(samples, 95),
                "max": max(samples),
                "count": response.json()["count"],
            }
        )
    result["calls"] = calls
    result["p50"] = statistics.median(all_samples)
    result["p95"] = percentile(all_samples, 95)

    slowest = max(calls, key=lambda c: c["p95"])
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/admin/data", slowest["params"])
    query = max(captured.captured_queries, key=lambda q: float(q["time"]))
    result["slowest"] = {
        "label": slowest["label"],
        "sql": query["sql"],
        "ms": float(query["time"]) * 1000,
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
        result["slowest"]["plan"] = "\n".join(
            " | ".join(str(c) for c in row) for row in cursor.fetchall()
        )

    result["export"] = export_through_daphne(args.tasks)
    if connection.vendor == "postgresql":
        result["copy"] = postgres_copy()
    result["load_end"] = os.getloadavg()
    return result


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def export_through_daphne(rows: int) -> dict:
    from daphne_server import Daphne, download_watching_memory, staff_session

    env = dict(os.environ)
    session = staff_session(env)
    with Daphne(env) as server:
        run = download_watching_memory(
            server, session, "/api/admin/data/export?format=csv", interval=0.05
        )
    assert run.status == 200 and run.lines == rows + 1, (run.status, run.lines)
    return {
        "rows": rows,
        "seconds": run.seconds,
        "rows_s": rows / run.seconds,
        "mb": run.size / MB,
        "first_byte_s": run.first_byte,
        "rss_growth_mb": run.rss_growth / MB,
    }


def postgres_copy() -> dict:
    """The same SELECT as the export (plus the tags the export adds), run by COPY."""
    from django.db import connection

    from admin_explorer import selectors

    sql, params = selectors.row_values(
        selectors.order_tasks(selectors.all_tasks())
    ).query.sql_with_params()
    through = selectors.DatasetTag._meta.db_table
    tag = "admin_explorer_tag"
    wrapped = (
        f"SELECT q.*, (SELECT string_agg(t.name, ';' ORDER BY t.name) FROM {through} dt "
        f"JOIN {tag} t ON t.id = dt.tag_id WHERE dt.dataset_id = q.dataset_id) AS tags FROM ({sql}) q"
    )
    connection.ensure_connection()
    raw = connection.connection
    import psycopg

    with psycopg.ClientCursor(raw) as cursor:
        statement = cursor.mogrify(wrapped, params)
    t0 = time.monotonic()
    size = lines = 0
    with raw.cursor() as cursor, cursor.copy(f"COPY ({statement}) TO STDOUT WITH CSV") as copy:
        for data in copy:
            size += len(data)
            lines += bytes(data).count(b"\n")
    seconds = time.monotonic() - t0
    return {"rows": lines, "seconds": seconds, "rows_s": lines / seconds, "mb": size / MB}


# --------------------------------------------------------------------------- driver side
def run_backend(name: str, tasks: int, repeat: int, database_url: str, keep: str = "") -> dict:
    with tempfile.TemporaryDirectory(prefix=f"explorer-bench-{name}-") as scratch:
        var_dir = keep or scratch
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
        env.update(
            SECRET_KEY=env.get("SECRET_KEY") or "bench-only",
            VAR_DIR=var_dir,
            DJANGO_SETTINGS_MODULE="interviewsite.settings",
            ALLOWED_HOSTS="testserver,localhost,127.0.0.1",
            LOG_LEVEL="WARNING",
            TRANSCRIPTION="off",  # its daphne serves no interview: no speech-to-text model
        )
        if database_url:
            env["DATABASE_URL"] = database_url
        out = Path(var_dir) / "result.json"
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            "--tasks",
            str(tasks),
            "--repeat",
            str(repeat),
            "--out",
            str(out),
        ]
        subprocess.run(cmd, cwd=ROOT, env=env, check=True)
        return json.loads(out.read_text())


def postgres_database(admin_url: str, name: str, create: bool, keep: bool = False) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not keep:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if create and not (exists and keep):
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    # Twenty samples, so a call's p95 is its second-slowest sample: with five, "p95" was the
    # slowest one, and a full garbage collection (one in about sixty requests) landing in it
    # failed the call alone. Each call's slowest sample is reported too.
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--postgres-db", default="explorer_bench")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="keep both databases (SQLite in DIR) and reuse them when they hold --tasks tasks",
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        Path(args.out).write_text(json.dumps(run_worker(args), default=str))
        return

    keep = str(Path(args.keep).resolve()) if args.keep else ""
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
    results = []
    if not args.skip_sqlite:
        results.append(run_backend("sqlite", args.tasks, args.repeat, "", keep))
    if not args.skip_postgres:
        admin_url = os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        )
        url = postgres_database(admin_url, args.postgres_db, create=True, keep=bool(keep))
        try:
            results.append(run_backend("postgresql", args.tasks, args.repeat, url))
        finally:
            if not keep:
                postgres_database(admin_url, args.postgres_db, create=False)
    report(results, args.tasks)


if __name__ == "__main__":
    main()
