"""The table ``bench/explorer.py`` prints: each figure against its goal, then every call."""

import os

GOAL_P95_MS = 50
GOAL_P95_MS_10M = 100
GOAL_ROWS_S = 100_000
GOAL_RSS_MB = 50


def goal_ms(tasks: int) -> int:
    """Every call's p95 goal: 50 ms up to a million tasks, 100 ms beyond."""
    return GOAL_P95_MS if tasks <= 1_000_000 else GOAL_P95_MS_10M


def mark(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def report(results: list[dict], tasks: int) -> None:
    goal = goal_ms(tasks)
    seed_goal_s = max(120, round(120 * tasks / 1_000_000))
    print(f"\nData Explorer benchmark, {tasks:,} tasks")
    print(f"{'figure':<44} {'goal':>14} {'measured':>14}  ")
    print("-" * 80)
    for r in results:
        db = r["backend"]
        ex = r["export"]
        missed = [c for c in r["calls"] if c["p95"] > goal]
        slowest = max(r["calls"], key=lambda c: c["p95"])
        rows = [
            (
                f"[{db}] seed {tasks:,} tasks",
                f"< {seed_goal_s:,} s" if db == "sqlite" else "-",
                "reused" if r["seed_s"] is None else f"{r['seed_s']:.1f} s",
                db != "sqlite" or r["seed_s"] is None or r["seed_s"] < seed_goal_s,
            ),
            (
                f"[{db}] {len(r['calls'])} API calls, all samples p50",
                "-",
                f"{r['p50']:.1f} ms",
                True,
            ),
            (f"[{db}] ... all samples p95", "-", f"{r['p95']:.1f} ms", True),
            (
                f"[{db}] calls with p95 over the goal",
                "0",
                f"{len(missed)} of {len(r['calls'])}",
                not missed,
            ),
            (
                f"[{db}] slowest call p95",
                f"<= {goal} ms",
                f"{slowest['p95']:.1f} ms",
                slowest["p95"] <= goal,
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
        for figure, target, measured, ok in rows:
            print(
                f"{figure:<44} {target:>14} {measured:>14}  {mark(ok) if target not in ('-', 'comparison') else ''}"
            )
    print(f"\nmachine: {os.cpu_count()} CPUs; load average (1/5/15 min) at start and end:")
    for r in results:
        start, end = r["load_start"], r["load_end"]
        print(
            f"  [{r['backend']}] {start[0]:.2f}/{start[1]:.2f}/{start[2]:.2f} -> "
            f"{end[0]:.2f}/{end[1]:.2f}/{end[2]:.2f}"
        )
    for r in results:
        print(
            f"\n[{r['backend']}] per call: p50, p95 and slowest sample in ms (goal p95 <= {goal} ms),"
            " rows matched"
        )
        for c in r["calls"]:
            print(
                f"  {c['label']:<52} {c['p50']:8.1f} {c['p95']:8.1f} {c['max']:8.1f}  {c['count']:>10,}"
                f"  {mark(c['p95'] <= goal)}"
            )
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
