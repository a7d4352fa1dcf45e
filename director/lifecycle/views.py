"""What the faces read about runs: the catalog's rows and events, the latest state, history and health."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from director.checkpoints import open_checkpointer, started
from director.errors import DirectorError
from director.lease import effective_status
from director.lifecycle.session import Base
from director.run import Event
from director.secrets import scrub
from director.state import DirectorState
from director.store import DATABASE_ERRORS, AssetStore, Catalog


class Views(Base):
    """Reads only: nothing here starts or changes a run."""

    def store(self) -> AssetStore:
        """The asset store for reading: path() fetches from a shared store what this machine has not cached."""
        return AssetStore(self.workspace, self._catalog())

    def runs_row(self, run_id: str) -> dict[str, Any]:
        catalog = self._catalog()
        row = catalog.require_run(run_id)
        return {"id": row.id, "status": effective_status(row, catalog), "goal": row.goal}

    def runs(self) -> list[dict[str, Any]]:
        catalog = self._catalog()
        return [
            {"id": r.id, "goal": r.goal, "status": effective_status(r, catalog), "created": r.created.isoformat(timespec="seconds"),
             "backend": r.backend, "final": r.final_path, "error": r.error, "parent": r.parent_run,
             "parent_checkpoint": r.parent_checkpoint, "cost_usd": round(catalog.run_spend(r.id), 4),
             "budget_usd": r.budget_usd}
            for r in catalog.list_runs()
        ]

    def events(self, run_id: str, *, after: int = 0) -> list[Event]:
        """A run's progress events as recorded in the catalog (from any process), numbered by "seq"."""
        catalog = self._catalog()
        catalog.require_run(run_id)
        return catalog.events(run_id, after=after)

    def latest(self, run_id: str) -> tuple[DirectorState | None, dict[str, Any] | None]:
        """The run's state at its newest checkpoint (None before its first step) and what it asks,
        if it waits at the approval gate."""
        from director.graph import build_graph

        catalog = self._catalog()
        row = catalog.require_run(run_id)
        with open_checkpointer(self.workspace, readonly=catalog.readonly) as saver:
            graph = build_graph(brain=None, runner=None, finish=None, checkpointer=saver)  # type: ignore[arg-type]
            try:
                snapshot = graph.get_state({"configurable": {"thread_id": run_id}})
            except ValidationError:
                snapshot = None
        if not started(snapshot):
            options = json.loads(row.options_json or "{}")
            return (self._initial_state(row) if "goal" in options else None), None
        asked = None
        if snapshot.interrupts and effective_status(row, catalog) == "paused":
            value = snapshot.interrupts[0].value
            asked = value if isinstance(value, dict) else {"ask": str(value)}
        return DirectorState.model_validate(snapshot.values), asked

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """Checkpoints of a run, newest first (id, parent, step, node, what changed), with its forks."""
        from director.graph import build_graph
        from director.history import describe_history

        catalog = self._catalog()
        row = catalog.require_run(run_id)
        with open_checkpointer(self.workspace, readonly=catalog.readonly) as saver:
            # Only the state schema matters for reading checkpoints; nothing runs.
            graph = build_graph(brain=None, runner=None, finish=None, checkpointer=saver)  # type: ignore[arg-type]
            snapshots = list(graph.get_state_history({"configurable": {"thread_id": run_id}}))
        rows = describe_history(snapshots)
        forks: dict[str, list[str]] = {}
        for child in catalog.list_runs():
            if child.parent_run == run_id and child.parent_checkpoint:
                forks.setdefault(child.parent_checkpoint, []).append(child.id)
        for r in rows:
            r["forks"] = sorted(forks.get(r["checkpoint"], []))
        if row.parent_run:
            rows.append({"checkpoint": row.parent_checkpoint, "parent": None, "step": None, "node": "fork",
                         "created": row.created.isoformat(), "next": [], "forks": [],
                         "change": f"forked from run {row.parent_run} at checkpoint {row.parent_checkpoint}"})
        return rows

    def health(self) -> dict[str, Any]:
        """Whether this process can reach what runs need: the database, the asset store and the cluster.
        Each part says ok and where, never a password; `ok` is all of them."""
        from director import cluster

        parts: dict[str, dict[str, Any]] = {}
        try:
            catalog = Catalog.open(self.workspace, create=True)
            with catalog.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            parts["database"] = {"ok": True, "engine": catalog.engine.dialect.name, "where": self.workspace.where}
        except (DirectorError, OSError) + DATABASE_ERRORS as exc:
            parts["database"] = {"ok": False, "where": self.workspace.where, "error": scrub(str(exc).splitlines()[0])}
            catalog = None
        url = self.workspace.assets_url
        try:
            if url and catalog is not None:
                from director.objects import probe_store

                probe_store(url)
            elif not url:
                self.workspace.prepare()
            parts["assets"] = {"ok": True, "kind": url.split("://")[0] if url else "local",
                               "where": url or str(self.workspace.assets_dir)}
        except (DirectorError, OSError) as exc:
            parts["assets"] = {"ok": False, "where": url or str(self.workspace.assets_dir),
                               "error": scrub(str(exc).splitlines()[0])}
        address = self.settings.ray()
        if address is None:
            parts["cluster"] = {"ok": True, "executor": "local", "render_jobs": self.settings.render_jobs}
        else:
            try:
                cluster.connect(address)
                import ray

                nodes = [n for n in ray.nodes() if n.get("Alive")]
                cpus = sum(n.get("Resources", {}).get("CPU", 0) for n in nodes)
                parts["cluster"] = {"ok": cpus > 0, "executor": "ray", "address": address, "nodes": len(nodes),
                                    "cpus": cpus, **({} if cpus > 0 else {"error": "no node offers a CPU"})}
            except DirectorError as exc:
                parts["cluster"] = {"ok": False, "executor": "ray", "address": address, "error": str(exc)}
        return {"ok": all(p["ok"] for p in parts.values()), **parts}
