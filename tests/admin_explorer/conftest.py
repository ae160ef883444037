"""A small, hand-shaped annotation world, and clients for each kind of user.

Names are single capitalised words so every database collation orders them the same way.
"""

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from admin_explorer.models import AnnotationTask, Annotator, Dataset, Tag
from interviews.models import Job

UTC = dt.UTC
STATUSES = [s.value for s in AnnotationTask.Status]


@dataclass
class World:
    jobs: dict
    datasets: dict
    annotators: dict
    tags: dict
    tasks: list


@pytest.fixture
def world(db) -> World:
    jobs = {t: Job.objects.create(title=t) for t in ["Apollo", "Borealis", "Cascade"]}
    tags = {n: Tag.objects.create(name=n) for n in ["audio", "gold", "pii", "text"]}
    spec = {
        "Meadow": ("Apollo", ["audio", "text"]),
        "Harbor": ("Apollo", ["audio"]),
        "Summit": ("Borealis", ["text", "pii"]),
        "Valley": ("Borealis", []),
    }
    datasets = {}
    for title, (job, names) in spec.items():
        datasets[title] = Dataset.objects.create(job=jobs[job], title=title)
        datasets[title].tags.set([tags[n] for n in names])
    annotators = {
        n: Annotator.objects.create(name=n, email=f"{n.lower()}@example.com")
        for n in ["Quinn", "Rafferty", "Sullivan"]
    }
    ds_cycle = list(datasets.values())
    ann_cycle = list(annotators.values())
    names = ["Kestrel", "Lynx", "Marten", "Nightjar", "Osprey"]
    ratings = [None, Decimal("0.0"), Decimal("2.5"), Decimal("3.5"), Decimal("4.0"), Decimal("5.0")]
    base = dt.datetime(2025, 3, 10, tzinfo=UTC)
    tasks = []
    for i in range(42):
        dataset = ds_cycle[i % 4]
        created = base + dt.timedelta(hours=(i // 3) * 7)  # ties: three tasks share a time
        tasks.append(
            AnnotationTask(
                job=dataset.job,
                dataset=dataset,
                annotator=ann_cycle[(i * 5) % 3],
                name=names[i % 5] if i != 41 else "Zephyrtask",
                status=STATUSES[i % 6],
                quality_rating=ratings[(i * 7) % 6],
                created_at=created,
                submitted_at=created + dt.timedelta(hours=1) if i % 2 else None,
            )
        )
    # Exact day boundaries for the date filters (server time zone is UTC in tests).
    tasks[0].created_at = dt.datetime(2025, 3, 1, 0, 0, 0, tzinfo=UTC)
    tasks[1].created_at = dt.datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=UTC)
    tasks[2].created_at = dt.datetime(2025, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)
    tasks[3].created_at = dt.datetime(2025, 4, 1, 0, 0, 0, tzinfo=UTC)
    AnnotationTask.objects.bulk_create(tasks)
    tasks = list(
        AnnotationTask.objects.select_related("job", "dataset", "annotator")
        .prefetch_related("dataset__tags")
        .order_by("pk")
    )
    return World(jobs, datasets, annotators, tags, tasks)


@pytest.fixture
def staff_client(client, db):
    user = User.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(user)
    return client


@pytest.fixture
def plain_client(client, db):
    user = User.objects.create_user("plain", password="pw", is_staff=False)
    client.force_login(user)
    return client


def resolve(world, params: dict) -> dict:
    """``params`` with the ids of the world's rows in place of ``"placeholder"``."""
    params = dict(params)
    if params.get("project") == "placeholder":
        params["project"] = world.jobs["Apollo"].pk
    if params.get("annotator") == "placeholder":
        params["annotator"] = world.annotators["Rafferty"].pk
    return params


def tags_of(task) -> set[str]:
    return {t.name for t in task.dataset.tags.all()}


def fetch(client, url="/api/admin/data", **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def all_ids(client, page_size=500, **params) -> list[int]:
    """Walk every page and return the task ids in the order served."""
    ids, page = [], 1
    while True:
        body = fetch(client, page=page, page_size=page_size, **params)
        ids += [row["task_id"] for row in body["results"]]
        if page * page_size >= body["count"]:
            return ids
        page += 1


CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--headless=new", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def session_cookie(username: str) -> str:
    """A logged-in staff session for ``username`` (created if needed)."""
    user, _ = User.objects.get_or_create(username=username, defaults={"is_staff": True})
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def chromium(monkeypatch):
    """Playwright's sync API runs an event loop in this thread, so Django would refuse the
    tests' own queries as "async"; they are plain sequential calls, which this says."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def open_tab(browser, base_url: str, username: str, viewport=(1400, 1000)):
    """A tab logged in as ``username``; page errors are collected in ``tab.errors``."""
    width, height = viewport
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "sessionid", "value": session_cookie(username), "url": base_url}])
    tab = context.new_page()
    tab.errors = []
    tab.on("pageerror", lambda exc: tab.errors.append(str(exc)))
    tab.base = base_url
    return tab


@pytest.fixture
def page(live_server, world, transactional_db, chromium):
    tab = open_tab(chromium, live_server.url, "browser")
    yield tab
    assert not tab.errors, tab.errors
