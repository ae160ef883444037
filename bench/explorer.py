"""Data Explorer benchmark: 1,000,000 tasks on SQLite and on PostgreSQL.

For each database: seed time, p50/p95 latency of 20 typical list calls (filters x sorts x
deep pages, measured in-process through the full Django/DRF stack), then the full CSV export
downloaded from a real daphne process (rows/s and server RSS growth). On PostgreSQL the same
rows are also written by the server's own ``COPY (SELECT ...) TO STDOUT WITH CSV``: the limit
an export could reach.

Run: ``SECRET_KEY=x .venv/bin/python bench/explorer.py [--tasks N] [--skip-postgres]``.
PostgreSQL comes from BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres);
a database ``explorer_bench`` is created there and dropped afterwards.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "admin_explorer"))

GOAL_P95_MS = 50
GOAL_ROWS_S = 100_000
GOAL_RSS_MB = 50
MB = 1024 * 1024


# --------------------------------------------------------------------------- worker side
def typical_calls(ids: dict) -> list[tuple[str, dict]]:
    big, small = ids["projects"][0], ids["projects"][-1]
    top, second, third = ids["annotators"][:3]
    last_page = max(1, ids["tasks"] // 50)
    return [
        ("default: newest first", {}),
        ("oldest first", {"sort_dir": "asc"}),
        ("deep page 2,000", {"page": 2000}),
        ("last page", {"page": last_page}),
        ("biggest project", {"project": big}),
        ("smallest project by rating", {"project": small, "sort_by": "quality_rating"}),
        ("top annotator", {"annotator": top}),
        ("3 annotators by updated", {"annotator": f"{top},{second},{third}", "sort_by": "updated_at"}),
        ("approved by rating", {"status": "approved", "sort_by": "quality_rating"}),
        ("in review + submitted, oldest update", {"status": "in_review,submitted", "sort_by": "updated_at", "sort_dir": "asc"}),
        ("tag audio", {"tags": "audio"}),
        ("tags audio AND english", {"tags": "audio,english"}),
        ("tags pii OR medical", {"tags": "pii,medical", "tags_mode": "any"}),
        ("search annotator 'rossi'", {"search": "rossi"}),
        ("search task name 'label intent 12'", {"search": "label intent 12"}),
        ("rating >= 4.5", {"rating_min": "4.5"}),
        ("one month by created asc", {"created_from": ids["month_start"], "created_to": ids["month_end"], "sort_dir": "asc"}),
        ("sort by project title", {"sort_by": "project_title", "sort_dir": "asc"}),
        ("sort by annotator, page 100", {"sort_by": "annotator_name", "sort_dir": "desc", "page": 100}),
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
    started = time.monotonic()
    seeding.seed(args.tasks, seed_value=1)
    result["seed_s"] = time.monotonic() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

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
    user = User.objects.create_user("bench", password="unused-password-1", is_staff=True)
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
def run_backend(name: str, tasks: int, repeat: int, database_url: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"explorer-bench-{name}-") as var_dir:
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


def postgres_database(admin_url: str, name: str, create: bool) -> str:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(results: list[dict], tasks: int) -> None:
    print(f"\nData Explorer benchmark, {tasks:,} tasks")
    print(f"{'figure':<44} {'goal':>14} {'measured':>14}  ")
    print("-" * 80)
    for r in results:
        db = r["backend"]
        ex = r["export"]
        rows = [
            (
                f"[{db}] seed {tasks:,} tasks",
                "< 120 s" if db == "sqlite" else "-",
                f"{r['seed_s']:.1f} s",
                db != "sqlite" or r["seed_s"] < 120,
            ),
            (f"[{db}] 20 API calls p50", "-", f"{r['p50']:.1f} ms", True),
            (
                f"[{db}] 20 API calls p95",
                f"<= {GOAL_P95_MS} ms",
                f"{r['p95']:.1f} ms",
                r["p95"] <= GOAL_P95_MS,
            ),
            (
                f"[{db}] CSV export via daphne",
                f">= {GOAL_ROWS_S:,} rows/s",
                f"{ex['rows_s']:,.0f} rows/s",
                ex["rows_s"] >= GOAL_ROWS_S,
            ),
            (
                f"[{db}] export server RSS growth",
                f"<= {GOAL_RSS_MB} MB",
                f"{ex['rss_growth_mb']:.1f} MB",
                ex["rss_growth_mb"] <= GOAL_RSS_MB,
            ),
            (
                f"[{db}] export first byte / size",
                "-",
                f"{ex['first_byte_s']:.2f} s / {ex['mb']:.0f} MB",
                True,
            ),
        ]
        if "copy" in r:
            cp = r["copy"]
            rows.append(
                (
                    f"[{db}] COPY ... TO STDOUT (same rows)",
                    "comparison",
                    f"{cp['rows_s']:,.0f} rows/s",
                    True,
                )
            )
            rows.append(
                (
                    f"[{db}] export / COPY throughput",
                    "-",
                    f"{ex['rows_s'] / cp['rows_s']:.2f}x",
                    True,
                )
            )
        for figure, goal, measured, ok in rows:
            print(
                f"{figure:<44} {goal:>14} {measured:>14}  {mark(ok) if goal not in ('-', 'comparison') else ''}"
            )
    print(f"\nmachine: {os.cpu_count()} CPUs; load average (1/5/15 min) at start and end:")
    for r in results:
        start, end = r["load_start"], r["load_end"]
        print(
            f"  [{r['backend']}] {start[0]:.2f}/{start[1]:.2f}/{start[2]:.2f} -> "
            f"{end[0]:.2f}/{end[1]:.2f}/{end[2]:.2f}"
        )
    for r in results:
        print(f"\n[{r['backend']}] per call (p50 / p95 ms, rows matched)")
        for c in r["calls"]:
            print(f"  {c['label']:<42} {c['p50']:8.1f} {c['p95']:8.1f}  {c['count']:>9,}")
        s = r["slowest"]
        print(
            f"\n[{r['backend']}] slowest call: {s['label']}; its slowest query ({s['ms']:.1f} ms):\n  {_shorten(s['sql'])}"
        )
        print("  plan:\n    " + _shorten(s["plan"], 4000).replace("\n", "\n    "))


def _shorten(text: str, limit: int = 600) -> str:
    """Long IN (...) lists make the SQL unreadable; keep the start and the end."""
    lines = [
        line if len(line) <= limit else line[: limit // 2] + " … " + line[-limit // 4 :]
        for line in text.splitlines()
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        Path(args.out).write_text(json.dumps(run_worker(args), default=str))
        return

    results = [run_backend("sqlite", args.tasks, args.repeat, "")]
    if not args.skip_postgres:
        admin_url = os.environ.get(
            "BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
        )
        url = postgres_database(admin_url, "explorer_bench", create=True)
        try:
            results.append(run_backend("postgresql", args.tasks, args.repeat, url))
        finally:
            postgres_database(admin_url, "explorer_bench", create=False)
    report(results, args.tasks)


if __name__ == "__main__":
    main()
