"""`director doctor`: check a workspace's database and every asset; --repair mends what it safely can.

Each problem is one line. Repairs never invent data: a damaged asset file is
removed (the call that made it runs again when it is next needed, since the
memo checks its hash), a run left "running" by a dead process is marked
interrupted, and temp files of killed commands are deleted.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from director.store import AssetStore, Catalog, Workspace, sha256_file

STALE_S = 3600.0
"""A temp file this old belongs to no live command."""
CACHE_TEMP = re.compile(r"\.[0-9a-f]{64}\.[0-9a-f]{32}")
"""The name Workspace.cached() writes a file under before it is renamed into place."""


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    checked_assets: int = 0

    @property
    def ok(self) -> bool:
        return not [p for p in self.problems if p not in self.repaired]


def database_problems(db: Path) -> list[str]:
    """SQLite's own integrity check, in one line per problem."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return [f"{db}: the database cannot be read ({exc})"]
    return [] if rows == ["ok"] else [f"{db}: {r}" for r in rows]


def examine(workspace: Workspace, *, repair: bool = False) -> Report:
    from director.api import effective_status  # the lifecycle's own rule for a dead "running" run

    report = Report()
    if not workspace.has_db():
        report.problems.append(f"{workspace.db_path}: no database here (nothing has run in this workspace)")
        return report
    if not workspace.postgres:  # Postgres checks its own pages; SQLite's file gets its integrity check
        db_issues = database_problems(workspace.db_path)
        report.problems += db_issues
        if db_issues:
            return report  # reading the catalog further could make things worse
    catalog = Catalog.open(workspace, create=False)
    shared = AssetStore(workspace, catalog).shared
    for row in catalog.list_assets():
        report.checked_assets += 1
        path = workspace.abspath(row.path)
        if shared is not None:  # the store of record is shared: it must hold every asset; assets/ is a cache
            if shared.size(row.path) != row.bytes:
                report.problems.append(f"{shared.key(row.path)}: missing from {shared.url} ({row.kind}); the call "
                                       f"that made it runs again when needed")
            if not path.is_file():
                continue  # not cached on this machine: nothing more to check here
        elif not path.is_file():
            report.problems.append(f"{row.path}: missing ({row.kind}); the call that made it runs again when needed")
            continue
        if path.stat().st_size != row.bytes or sha256_file(path) != row.sha256:
            line = f"{row.path}: damaged (its bytes no longer hash to its name)"
            report.problems.append(line)
            if repair:
                path.unlink()
                catalog.set_asset_check(row.sha256, None)
                report.repaired.append(line)
    for run in catalog.list_runs():
        if run.status == "running" and effective_status(run, catalog) == "interrupted":
            line = f"run {run.id}: left running by pid {run.pid}, which is gone; director resume {run.id} goes on"
            report.problems.append(line)
            if repair:
                catalog.update_run(run.id, status="interrupted", error="the process running it stopped")
                report.repaired.append(line)
    strays = list(workspace.runs_dir.glob("*/.*.*")) + list(workspace.tmp_dir.glob("*")) + [
        p for p in workspace.cache_dir.glob("*/??/.*") if CACHE_TEMP.match(p.name)]  # a cached() make cut off
    for stray in strays:
        if time.time() - stray.stat().st_mtime < STALE_S:
            continue  # it may belong to a command running now
        line = f"{stray.relative_to(workspace.root)}: a temp file left by a command that was stopped"
        report.problems.append(line)
        if repair:
            try:
                stray.unlink()
                report.repaired.append(line)
            except OSError:
                pass
    return report

