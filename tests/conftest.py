from __future__ import annotations

import os
from pathlib import Path

import pytest

PROVIDER_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_CLOUD_PROJECT",
                "GOOGLE_CLOUD_LOCATION", "REVE_API_KEY", "DIRECTOR_OPENAI_BASE_URL", "DIRECTOR_OPENAI_MODEL",
                "DIRECTOR_OPENAI_API_KEY", "DIRECTOR_OPENAI_VISION", "DIRECTOR_OPENAI_OWN_SERVER")
CLUSTER_ENV = ("DIRECTOR_DATABASE_URL", "DIRECTOR_ASSETS_URL", "DIRECTOR_RAY_ADDRESS")


SLOW_FIXTURES = {"fast", "story_run", "fake", "ray_cluster", "postgres_server", "s3_server", "on_ray",
                 # the modules' own shared runs
                 "portrait", "approved_run", "auto", "base_run", "timed", "made", "story", "talk"}
"""A test that asks for one of these makes a whole video (or starts a server process): `make check` leaves it to
`make test`."""
SLOW_MODULES = {"test_crash", "test_install", "test_studio_browser", "test_bench", "test_langgraph_server",
                "test_story_e2e", "test_interrupt", "test_deploy"}
"""Modules whose every test encodes video or starts a process or a browser, whatever fixtures it asks for."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or item.module.__name__.rpartition(".")[2] \
                in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
        # The Ray cluster's tests share one worker, and so one cluster: make test distributes by file
        # (--dist loadfile), and they are one module.
    if os.environ.get("RUN_LIVE") == "1":
        return
    skip = pytest.mark.skip(reason="calls a real cloud API; set RUN_LIVE=1")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_env(request, tmp_path, monkeypatch):
    """No test writes to the developer's ~/.director or sees their provider keys (live tests keep them)."""
    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    for name in CLUSTER_ENV:  # a developer's shared database or cluster is never touched by a test
        monkeypatch.delenv(name, raising=False)
    if "live" in request.keywords:
        return
    for name in PROVIDER_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def story_run(tmp_path_factory, worker_id):
    """One real 3-scene local run at the defaults (720p, 30 fps), shared by the end-to-end checks, which only read
    it: made once a session by whichever xdist worker asks first, while the other waits for it and reads what it
    left (the run's handle, rebuilt, and its events as they were sent)."""
    import json

    from filelock import FileLock

    from director.api import Director
    from director.run import Run

    root = tmp_path_factory.getbasetemp()
    root = root if worker_id == "master" else root.parent  # the workers' temp folders share a parent
    ws, saved = root / "story-ws", root / "story-run.json"
    with FileLock(str(root / "story-run.lock")):
        if not saved.exists():
            events: list[dict] = []
            made = Director(workspace=ws, backend="local").submit(
                "a 3-scene bedtime story about a cat and a dog", run_id="story", on_event=events.append)
            saved.write_text(json.dumps({"status": made.status, "error": made.error, "events": events,
                                         "outputs": {name: str(path) for name, path in made.outputs.items()}}))
    record = json.loads(saved.read_text())
    run = Run("story", ws)
    run.status, run.error = record["status"], record["error"]
    run.outputs = {name: Path(path) for name, path in record["outputs"].items()}
    return run, record["events"], ws


@pytest.fixture
def fast(request, monkeypatch):
    """Lower frame rate and the fastest x264 preset, for tests about structure; offline, the draft size too (with
    the fake, the cloud models' own sizes and prices are what a test checks)."""
    from tests.helpers import FAST, FAST_PAID

    for name, value in (FAST_PAID if "fake" in request.fixturenames else FAST).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def workspace(tmp_path) -> Path:
    return tmp_path / "ws"


TEST_KEY = "AIzaFAKE-director-test-key-0123456789"


@pytest.fixture
def fake(monkeypatch):
    """The loopback fake of Gemini/Vertex/Reve, with the environment pointing at it."""
    from tests.fakes.server import FakeGoogle

    server = FakeGoogle().start()
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
    monkeypatch.setenv("GOOGLE_VERTEX_BASE_URL", server.url)
    monkeypatch.setenv("REVE_BASE_URL", server.url)
    monkeypatch.setenv("GEMINI_API_KEY", TEST_KEY)
    monkeypatch.setenv("DIRECTOR_VEO_POLL_S", "0.05")
    monkeypatch.setenv("DIRECTOR_BACKOFF_BASE_S", "0.05")
    monkeypatch.setenv("DIRECTOR_BACKOFF_MAX_S", "0.2")
    yield server
    server.stop()


def _serving(kind):
    """Start one of tests/servers.py's servers for a fixture, or skip saying which piece is missing."""
    why = kind.missing()
    if why:
        pytest.skip(why)
    server = kind().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on loopback for the session (Debian's postgresql), or a skip saying why not."""
    from tests.servers import Postgres

    yield from _serving(Postgres)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.cluster)])
def engine(request, monkeypatch) -> str:
    """Runs a test on both catalog engines: the workspace's SQLite file, and a fresh Postgres database
    named by DIRECTOR_DATABASE_URL (which subprocesses inherit)."""
    if request.param == "postgres":
        monkeypatch.setenv("DIRECTOR_DATABASE_URL", request.getfixturevalue("postgres_server").create_database())
    return request.param


@pytest.fixture(scope="session")
def s3_server():
    """moto's standalone S3 server on loopback for the session (a stand-in for a cloud store), or a skip."""
    from tests.servers import S3Server

    yield from _serving(S3Server)


@pytest.fixture(params=["file", pytest.param("s3", marks=pytest.mark.cluster)])
def assets_url(request, monkeypatch, tmp_path_factory) -> str:
    """DIRECTOR_ASSETS_URL for a fresh shared store of each kind: a file:// folder, and a prefix in moto's S3."""
    import uuid

    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        url = f"s3://{server.bucket}/t{uuid.uuid4().hex[:10]}"
    else:
        pytest.importorskip("obstore", reason="the cluster extra is not installed")
        url = (tmp_path_factory.mktemp("shared") / "assets").as_uri()
    monkeypatch.setenv("DIRECTOR_ASSETS_URL", url)
    return url


@pytest.fixture(scope="module")
def ray_cluster(request):
    """A local Ray cluster on loopback: a head that runs nothing and two one-CPU worker nodes. The workers'
    environment holds the session's Postgres database, as a `director worker` machine's would. One module uses
    it, and it stops when that module ends: idle, its thirty-odd processes would take a share of the two cores
    from every test after it."""
    from tests.helpers import FAST
    from tests.servers import RayCluster

    why = RayCluster.missing()
    if why:
        pytest.skip(why)
    server = request.getfixturevalue("postgres_server")
    database = server.create_database()
    cluster = RayCluster(workers=2, env={"DIRECTOR_DATABASE_URL": database, **FAST}).start()
    cluster.database = database
    yield cluster
    cluster.stop()


@pytest.fixture
def on_ray(ray_cluster, monkeypatch):
    """This test's runs send their tool calls to the Ray cluster, over the cluster's Postgres catalog, with the
    workers' FAST settings (the driver chooses the frame size and rate its calls ask for)."""
    from director import cluster
    from tests.helpers import FAST

    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DIRECTOR_RAY_ADDRESS", ray_cluster.address)
    monkeypatch.setenv("DIRECTOR_DATABASE_URL", ray_cluster.database)
    yield ray_cluster
    cluster.disconnect()  # the next test's limits are this process's own again
