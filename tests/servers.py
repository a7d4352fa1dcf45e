"""Real servers on loopback for the cluster tests and bench/cluster.py: PostgreSQL, moto's S3, Ray.

Each starts from what the machine has (Debian's postgresql binaries, the moto and
ray wheels) in a temp folder, on a free loopback port, and stops with everything
it started. When a piece is not installed, `missing()` says which, and the tests
that need it are skipped with that reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def uvicorn_thread(app: object, port: int | None = None) -> Iterator[tuple[str, object]]:
    """The ASGI app served by uvicorn in a thread on a loopback port (a free one by default): (its URL, the
    uvicorn server). On the way out it stops as `director serve` does on SIGTERM: event streams end first."""
    import threading

    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", server
    finally:
        studio = getattr(getattr(app, "state", None), "studio", None)
        if studio is not None:
            studio.stopping.set()
        server.should_exit = True
        thread.join(30)


@contextlib.contextmanager
def local_studio(root: Path, monkeypatch: object, *, workers: int) -> Iterator[tuple[str, object]]:
    """A studio on the local backend (fast encodes), its workspace in `root`, served by uvicorn_thread:
    (its URL, the app). On the way out its runs are stopped and waited for."""
    from director.server import create_app
    from tests.helpers import FAST

    for name, value in (("DIRECTOR_HOME", str(root / "home")), *FAST.items()):
        monkeypatch.setenv(name, value)  # type: ignore[attr-defined]
    app = create_app(workspace=root / "ws", workers=workers, backend="local")
    with uvicorn_thread(app) as (url, _):
        yield url, app
        for run in app.state.studio.director.lifecycle.stop_all():
            run.wait_quietly(60)


def _wait_port(port: int, proc: subprocess.Popen | None, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it listened on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:.0f} s")


def pg_bin(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    return shutil.which(name)


class Postgres:
    """A throwaway PostgreSQL server: initdb in a temp dir, pg_ctl on a loopback port.

    PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="director-pg-"))
        self.port = free_port()
        self.user = "director"
        self._as: list[str] = []

    @staticmethod
    def missing() -> str | None:
        if not (pg_bin("initdb") and pg_bin("pg_ctl")):
            return "PostgreSQL's server binaries are not installed (Debian package postgresql)"
        try:
            import langgraph.checkpoint.postgres  # noqa: F401
            import psycopg  # noqa: F401
        except ImportError:
            return "the cluster extra is not installed (pip install 'director-video[cluster]')"
        return None

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as, *argv], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> Postgres:
        data = self.root / "data"
        if os.geteuid() == 0:
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self._run(pg_bin("initdb") or "initdb", "-D", str(data), "-U", self.user, "--auth=trust", "-E", "UTF8",
                  "--no-sync")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        name = name or f"d{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(pg_bin("pg_ctl") or "pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)


class S3Server:
    """moto's standalone S3 server on loopback, with a bucket; the AWS_* variables that reach it."""

    def __init__(self, bucket: str = "director-assets") -> None:
        self.port = free_port()
        self.bucket = bucket
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def missing() -> str | None:
        try:
            import moto.server  # noqa: F401
            import obstore  # noqa: F401
        except ImportError:
            return "moto[server] and obstore are not installed (pip install -e '.[dev,cluster]')"
        return None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret-0123456789",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_ALLOW_HTTP": "true"}

    def start(self) -> S3Server:
        self.proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, self.proc, 60, "moto's S3 server")
        import httpx

        httpx.put(f"{self.endpoint}/{self.bucket}", timeout=10).raise_for_status()
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class RayCluster:
    """A local Ray cluster on loopback: a head that runs no tasks, and `workers` worker nodes."""

    def __init__(self, workers: int = 2, cpus: int = 1, env: dict[str, str] | None = None) -> None:
        self.workers = workers
        self.cpus = cpus
        self.port = free_port()
        self.temp = Path(tempfile.mkdtemp(prefix="director-ray-", dir="/tmp"))
        # The workers' environment: what a `director worker` machine would have (keys, database URL).
        self.env = {**os.environ, **(env or {}), "RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}

    @staticmethod
    def missing() -> str | None:
        if shutil.which("ray", path=str(Path(sys.executable).parent)) is None:
            return "ray is not installed (pip install 'director-video[cluster]')"
        return None

    @property
    def ray(self) -> str:
        return str(Path(sys.executable).parent / "ray")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _ray(self, *argv: str) -> None:
        subprocess.run([self.ray, *argv], check=True, env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=180)

    def start(self) -> RayCluster:
        self._ray("start", "--head", "--node-ip-address=127.0.0.1", f"--port={self.port}", "--num-cpus=0",
                  "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={self.temp}")
        for _ in range(self.workers):
            self.add_worker()
        return self

    def add_worker(self) -> None:
        self._ray("start", f"--address={self.address}", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}",
                  "--disable-usage-stats")

    def stop(self) -> None:
        ray = sys.modules.get("ray")
        if ray is not None and ray.is_initialized():
            ray.shutdown()  # this process leaves first, so it does not report the nodes going away
        try:
            subprocess.run([self.ray, "stop", "--force"], env=self.env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            pass
        shutil.rmtree(self.temp, ignore_errors=True)


def serve_director(workspace: Path, env: dict[str, str] | None = None, *, workers: int | None = None,
                   log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """A real `director serve` process on a free loopback port, its output in `log` (default: beside the
    workspace); (process, base URL) once it listens."""
    port = free_port()
    log = log or workspace.parent / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "director", "serve", "--port", str(port), "--workspace", str(workspace)]
    with open(log, "w") as out:
        proc = subprocess.Popen(argv + (["--workers", str(workers)] if workers else []), env=env or dict(os.environ),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_port(port, proc, 120, "director serve")
    except RuntimeError as exc:
        proc.kill()
        raise RuntimeError(f"{exc}; its output: {log.read_text()[-2000:]}") from None
    return proc, f"http://127.0.0.1:{port}"
