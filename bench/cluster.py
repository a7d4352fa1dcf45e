"""Past one machine: 20 three-scene runs over HTTP, on one process with SQLite and on a cluster.

The cluster is real and local: a PostgreSQL server (catalog, checkpoints, events, leases), moto's
S3 server (the shared asset store), a Ray head with one or two one-CPU worker nodes, and two
`director serve` processes with workspaces (caches) of their own. The models are the loopback
fake of Gemini, one server for every process, so its clock sees every request: no 60-second
window may hold more than the configured rate of any model, across all processes. The runs
use the gemini family (brain, story, stills, narration, likeness checks on the fake; motion and
music on the workers' CPUs, as Veo and Lyria need Vertex).

On this 2-core machine the head, both servers, Postgres, S3, the fake and the workers share two
cores, so the scaling figure shows Ray's overhead, not a speed-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Options, Report

GOAL = "a 3-scene story about a fox and an owl"
KEY = "AIzaFAKE-bench-key-not-a-secret-000000"
RPM = {"gemini-3.8-flash": 300.0, "gemini-nano-banana-2.1": 120.0, "gemini-3.8-flash-tts": 120.0}
"""Requests per minute by model, for every process together."""


def drive(urls: list[str], runs: int, seed0: int) -> tuple[float, list[str]]:
    """Submit `runs` runs round-robin over the servers and wait for them all: (seconds, statuses)."""
    import httpx

    start = time.perf_counter()
    ids: list[tuple[str, str]] = []
    for i in range(runs):
        url = urls[i % len(urls)]
        response = httpx.post(f"{url}/api/runs", headers={"Origin": url}, timeout=60,
                              json={"goal": GOAL, "backend": "gemini", "seed": seed0 + i, "motion": "still"})
        if response.status_code != 201:
            raise RuntimeError(f"POST {url}/api/runs: {response.status_code} {response.text[:300]}")
        ids.append((url, response.json()["id"]))
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + 1800
    while len(statuses) < len(ids):
        if time.monotonic() > deadline:
            raise RuntimeError(f"runs still going after 30 minutes: {len(statuses)} of {len(ids)} ended")
        for url, run_id in ids:
            if run_id in statuses:
                continue
            status = httpx.get(f"{url}/api/runs/{run_id}", timeout=60).json()["status"]
            if status not in ("running", "queued"):
                statuses[run_id] = status
        time.sleep(0.5)
    return time.perf_counter() - start, [statuses[r] for _, r in ids]


def busiest_minute(times: list[float]) -> int:
    """The most requests in any 60-second window."""
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= 60.0:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def paid_twice(url: str) -> int:
    """Paid calls executed more than once with the same memo key (each setup has a database of its own)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT key, COUNT(*) FROM tool_calls WHERE cost_usd > 0 AND NOT reused AND "
                                 "error IS NULL AND tool != 'brain' GROUP BY key HAVING COUNT(*) > 1")).all()
    engine.dispose()
    return len(rows)


def one_config(name: str, fake: Any, root: Path, runs: int, *, workers: int | None, base_env: dict[str, str],
               seed0: int) -> dict[str, Any]:
    from tests.servers import Postgres, RayCluster, S3Server, serve_director

    root.mkdir(parents=True)
    env = dict(base_env)
    stack: list[Any] = []
    try:
        if workers is None:  # the embedded default: one process, SQLite, threads
            db_url = f"sqlite:///{root / 'one' / 'director.db'}"
            workspaces = [root / "one"]
        else:
            pg = Postgres().start()
            stack.append(pg)
            s3 = S3Server().start()
            stack.append(s3)
            db_url = pg.create_database()
            env.update(s3.env())
            env.update({"DIRECTOR_DATABASE_URL": db_url, "DIRECTOR_ASSETS_URL": f"s3://{s3.bucket}/bench"})
            ray = RayCluster(workers=workers, env=env).start()
            stack.append(ray)
            env["DIRECTOR_RAY_ADDRESS"] = ray.address
            workspaces = [root / "serve-a", root / "serve-b"]
        before = len(fake.requests)
        urls = []
        for ws in workspaces:
            proc, url = serve_director(ws, env, workers=4, log=root / f"serve-{ws.name}.log")
            stack.append(proc)
            urls.append(url)
        seconds, statuses = drive(urls, runs, seed0)
        requests = fake.requests[before:]
        by_model: dict[str, list[float]] = {}
        for r in requests:
            if r.model:
                by_model.setdefault(r.model, []).append(r.at)
        busiest = {m: busiest_minute(ts) for m, ts in by_model.items()}
        over = {m: n for m, n in busiest.items() if m in RPM and n > RPM[m]}
        return {"name": name, "seconds": seconds, "runs": runs, "done": statuses.count("done"),
                "statuses": statuses, "per_minute": runs / seconds * 60, "requests": len(requests),
                "busiest": busiest, "over": over, "paid_twice": paid_twice(db_url)}
    finally:
        for thing in reversed(stack):
            if isinstance(thing, subprocess.Popen):
                thing.terminate()
                try:
                    thing.wait(30)
                except subprocess.TimeoutExpired:
                    thing.kill()
            else:
                thing.stop()


def main(report: Report, options: Options) -> None:
    from tests.fakes.server import FakeGoogle
    from tests.servers import Postgres, RayCluster, S3Server

    lines = report.section("Cluster: 20 three-scene runs over HTTP")
    missing = Postgres.missing() or S3Server.missing() or RayCluster.missing()
    if missing:
        report.line(lines, f"skipped: {missing}")
        return
    runs = 4 if options.quick else 20
    fake = FakeGoogle().start()
    try:
        with tempfile.TemporaryDirectory(prefix="director-bench-cluster-") as tmp:
            base_env = {**os.environ, "GEMINI_API_KEY": KEY, "GOOGLE_GEMINI_BASE_URL": fake.url,
                        "GOOGLE_VERTEX_BASE_URL": fake.url, "DIRECTOR_FALLBACK": "local",
                        "GEMINI_RATE_LIMITS": json.dumps(RPM), "DIRECTOR_HOME": str(Path(tmp) / "home"),
                        "DIRECTOR_FPS": "24", "RAY_USAGE_STATS_ENABLED": "0"}
            for name in ("DIRECTOR_DATABASE_URL", "DIRECTOR_ASSETS_URL", "DIRECTOR_RAY_ADDRESS"):
                base_env.pop(name, None)
            results = []
            for i, (name, workers) in enumerate((("one process, SQLite, threads", None),
                                                 ("2 servers, Postgres, S3, Ray with 1 worker", 1),
                                                 ("2 servers, Postgres, S3, Ray with 2 workers", 2))):
                result = one_config(name, fake, Path(tmp) / f"c{i}", runs, workers=workers, base_env=base_env,
                                    seed0=1000 * (i + 1))
                results.append(result)
                print(f"  {name}: {result['done']}/{runs} done in {result['seconds']:.1f} s", flush=True)
    finally:
        fake.stop()
    base = results[0]["per_minute"]
    report.line(lines, "| setup | runs done | wall | videos per minute | vs one process | paid calls repeated | "
                       "busiest minute (brain+checks / images / speech) |")
    report.line(lines, "|---|---|---|---|---|---|---|")
    for r in results:
        b = r["busiest"]
        report.line(lines, f"| {r['name']} | {r['done']}/{r['runs']} | {r['seconds']:.1f} s | {r['per_minute']:.1f} | "
                           f"{r['per_minute'] / base:.2f}x | {r['paid_twice']} | "
                           + " / ".join(str(b.get(m, 0)) for m in RPM) + " |")
    report.line(lines, "")
    limits = ", ".join(f"{m} {int(v)}/min" for m, v in RPM.items())
    report.line(lines, f"Rate limits ({limits}) held in every 60-second window at the fake, across all processes: "
                       f"{'yes' if not any(r['over'] for r in results) else 'NO: ' + str([r['over'] for r in results])}.")
    report.line(lines, f"Scaling 1 -> 2 Ray workers: {results[2]['per_minute'] / results[1]['per_minute']:.2f}x. "
                       "On this 2-core machine every process shares the same two cores, so this shows Ray's "
                       "overhead, not a speed-up.")
    failures = [r for r in results if r["done"] != r["runs"] or r["over"] or r["paid_twice"]]
    if failures:
        raise RuntimeError(f"the cluster bench failed its own checks: {failures}")
