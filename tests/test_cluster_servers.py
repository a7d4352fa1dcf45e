"""Two `director serve` processes over one Postgres catalog and one shared asset store (two
"machines": each has a workspace of its own). A run submitted to one can be followed, and once
its server dies, resumed by the other; while its server lives, the other cannot drive it."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.helpers import FAST, first_picture, settled
from tests.servers import serve_director

pytestmark = pytest.mark.cluster


def test_any_server_drives_a_run_and_only_one_at_a_time(tmp_path, postgres_server):
    pytest.importorskip("obstore", reason="the cluster extra is not installed")
    env = {**os.environ, "DIRECTOR_DATABASE_URL": postgres_server.create_database(),
           "DIRECTOR_ASSETS_URL": (tmp_path / "shared").as_uri(), **FAST}
    a, url_a = serve_director(tmp_path / "a", env)
    b, url_b = serve_director(tmp_path / "b", env)
    try:
        assert httpx.get(f"{url_b}/api/health").json()["database"]["engine"] == "postgresql"
        run_id = httpx.post(url_a + "/api/runs", headers={"Origin": url_a}, json={"goal": "a 4-scene story about a fox", "backend": "local"},
                            timeout=60).json()["id"]
        # b follows the run a drives, from the shared catalog, and may not drive it as well.
        first_picture(url_b, run_id)
        assert httpx.get(f"{url_b}/api/runs/{run_id}").json()["status"] == "running"
        busy = httpx.post(f"{url_b}/api/runs/{run_id}/resume", headers={"Origin": url_b}, json={}, timeout=60)
        assert busy.status_code == 409, busy.text
        a.kill()  # a's machine goes away mid-run
        a.wait()
        assert httpx.get(f"{url_b}/api/runs/{run_id}").json()["status"] == "interrupted"
        assert httpx.post(f"{url_b}/api/runs/{run_id}/resume", headers={"Origin": url_b}, json={}, timeout=60).status_code == 200
        run = settled(url_b, run_id)
        assert run["status"] == "done", run
        final = httpx.get(url_b + run["final"])
        assert final.status_code == 200 and final.content[4:8] == b"ftyp"
    finally:
        for proc in (a, b):
            proc.kill()
            proc.wait()
