"""Tool calls as Ray tasks: what the driver sends (submit) and what runs on a worker (run_task).

See director/cluster.py for how it fits together. This side imports the runner and the backends (a worker
builds its own Runner); the cluster module, which the runner uses (the limits are handed its limiter and budgets), imports none of them.
"""

from __future__ import annotations

import threading
from typing import Any

from director.cluster import MAX_RETRIES, NAMESPACE, Executed, _on_disconnect, fingerprint, throttle
from director.errors import ConfigError

_workers: dict[tuple[str, str, str], Any] = {}
_workers_lock = threading.Lock()


def _worker_runner(settings_json: str, root: str, family: str) -> Any:
    """This worker process's Runner for a driver's settings, workspace and backend family (built once)."""
    import json
    from pathlib import Path

    from director.backends import build_providers
    from director.config import load_settings
    from director.limits import Limits
    from director.prices import Prices
    from director.runner import Runner
    from director.store import AssetStore, Catalog, Workspace
    from director.tools import registry

    key = (settings_json, root, family)
    with _workers_lock:
        runner = _workers.get(key)
        if runner is None:
            settings = load_settings(**json.loads(settings_json))  # keys come from this worker's environment
            workspace = Workspace.from_settings(Path(root), settings)
            workspace.prepare()
            catalog = Catalog.open(workspace, create=True)
            limits = Limits(rpm=settings.rate_limits(), max_attempts=settings.max_attempts,
                            backoff_base_s=settings.backoff_base_s, backoff_max_s=settings.backoff_max_s,
                            shared=throttle)  # a worker: one limiter for every process of the cluster
            providers = build_providers(settings, family, limits, cache_dir=workspace.cache_dir / "runtime")
            runner = _workers[key] = Runner(settings=settings, backends=providers.backends,
                                            store=AssetStore(workspace, catalog), catalog=catalog, tools=registry(),
                                            prices=Prices(settings.file_config().get("prices")))
        return runner


def run_task(job: dict[str, Any]) -> Executed:
    """The body of a tool call's Ray task (also callable in-process, for tests)."""
    import ray

    runner = _worker_runner(job["settings"], job["root"], job["family"])
    mine = runner.store.workspace
    if fingerprint(mine.database_url) != job["database"]:
        # The database URL is a secret, so it never travels: each worker has its own, and it must be the driver's.
        return Executed(output=None, error=f"this Ray worker's catalog ({mine.where}) is not the driver's: start it "
                                           f"with the same DIRECTOR_DATABASE_URL")
    tool = runner.tools[job["tool"]]
    args = tool.input.model_validate(job["args"])
    done = runner.execute(tool, args, job["inputs"], key=job["key"], run_id=job["run_id"], call_id=job["call_id"],
                          seed=job["seed"], tier=job.get("tier", "standard"))
    if ray.is_initialized():
        done.node = ray.get_runtime_context().get_node_id()
    return done


CALLER_THREADS = 32
"""Calls to hosted models at once in one caller: they wait on the network, not on a core."""

_remote_task: Any = None
_callers: list[Any] = []
_next_caller = 0


def _forget() -> None:
    global _remote_task, _callers
    _remote_task, _callers = None, []


_on_disconnect.append(_forget)


def _caller_class() -> Any:
    import ray

    # ray.remote's overloads describe only remote functions' options; an actor's (max_concurrency)
    # are valid at run time.
    @ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=MAX_RETRIES,  # type: ignore[call-overload]
                max_concurrency=CALLER_THREADS)
    class Caller:
        """Runs calls to hosted models on threads: one process per node instead of one per call in flight."""

        def run(self, job: dict[str, Any]) -> Executed:
            return run_task(job)

    return Caller


def callers() -> list[Any]:
    """The cluster's callers, shared by every driver (named, detached), spread over the CPU nodes."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    global _callers
    if not _callers:
        # One on each node that offers CPUs (the worker nodes, which carry the workers' environment), never
        # on a head that renders nothing; soft, so a caller whose node is gone restarts elsewhere.
        nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive") and n.get("Resources", {}).get("CPU", 0) > 0]
        _callers = [_caller_class().options(
            name=f"director-caller-{node}", namespace=NAMESPACE, get_if_exists=True, lifetime="detached",
            scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=True)).remote() for node in nodes]
        if not _callers:
            raise ConfigError("the Ray cluster has no node with a CPU to run tool calls on: start one with "
                              "director worker")
    return _callers


def submit(job: dict[str, Any], *, cpus: float) -> Executed:
    """Run one tool call on the cluster and wait for it (on the caller's thread): an encode, or a model on
    the worker's CPU, as a task that takes a core; a call to a hosted model on a caller's thread."""
    import ray

    global _remote_task, _next_caller
    if cpus <= 0:
        pool = callers()
        caller = pool[_next_caller % len(pool)]
        _next_caller += 1
        return ray.get(caller.run.remote(job))
    if _remote_task is None:
        _remote_task = ray.remote(max_retries=MAX_RETRIES, retry_exceptions=False)(run_task)
    return ray.get(_remote_task.options(num_cpus=cpus, name=f"{job['tool']}:{job['call_id']}").remote(job))
