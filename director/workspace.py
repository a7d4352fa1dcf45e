"""The workspace: its folders and paths, where its database lives, and what a storage failure means.

<workspace>/
  director.db        catalog tables (runs, assets, tool_calls) + LangGraph checkpoints
  assets/ab/<sha256>.<ext>
  runs/<run_id>/     final.mp4, subtitles.srt, storyboard.html, manifest.json
  tmp/               half-written files; renamed into assets/ only when complete
  cache/             derived files that can be rebuilt

Also here: canonical_json (cache and memo keys hash it, the event log stores it) and the helpers that
turn a database or disk failure into one StorageError line (DATABASE_ERRORS, disk_full, storage_error).
The lowest room of the store: it imports nothing else of it. director.store re-exports every name.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from director.errors import DirectorError, InputError, StorageError

try:  # the cluster extra: Postgres through psycopg
    from psycopg import Error as _PostgresError
except ImportError:  # pragma: no cover - the base install
    class _PostgresError(Exception):  # type: ignore[no-redef]
        """Stands in for psycopg.Error where psycopg is not installed (nothing raises it)."""

DATABASE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error, SQLAlchemyError, _PostgresError)
"""What a broken or unreachable database raises, on either engine."""


def postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).split(":", 1)[0].lower() in ("postgresql", "postgres", "postgresql+psycopg")


def shown_url(url: str) -> str:
    """A database URL fit to print: no password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "the database URL"


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# --- storage failures ---------------------------------------------------------


def readonly_problem(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open database" in text or \
        isinstance(exc, PermissionError)


def disk_full(exc: BaseException) -> bool:
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    return "database or disk is full" in str(exc).lower()


def storage_error(exc: BaseException, workspace: Workspace) -> DirectorError:
    """One line for a storage failure: which file, what happened, what to do."""
    if isinstance(exc, DirectorError):
        return exc
    if disk_full(exc):
        where = getattr(exc, "filename", None) or workspace.root
        return StorageError(f"the disk is full writing {where}: free some space, then resume the run")
    if readonly_problem(exc):
        return StorageError(f"{workspace.root} is read-only for this user: Director can list and show runs here, "
                            f"but not change them")
    text = (str(getattr(exc, "orig", None) or exc).splitlines() or [type(exc).__name__])[0]
    if workspace.postgres:
        return StorageError(f"{shown_url(workspace.database_url)}: the database cannot be used ({text}); check "
                            f"that its server is up and reachable from this machine")
    return StorageError(f"{workspace.db_path}: the database cannot be used ({text}); check it with "
                        f"director doctor --workspace {workspace.root}")


# --- workspace ----------------------------------------------------------------


class Workspace:
    """Paths of one workspace. Creating it checks that it is writable."""

    def __init__(self, root: Path, *, database_url: str | None = None, assets_url: str | None = None,
                 assets_cache_mb: int = 2048) -> None:
        self.root = root.expanduser().resolve()
        self._database_url = database_url or None
        self.assets_url = assets_url or None
        """The store of record when not assets/ (a file:// folder or s3://bucket/prefix); see objects.py."""
        self.assets_cache_mb = assets_cache_mb

    @classmethod
    def from_settings(cls, root: Path, settings: Any) -> Workspace:
        url = settings.database_url.get_secret_value() if settings.database_url is not None else None
        return cls(root, database_url=url, assets_url=settings.assets_url, assets_cache_mb=settings.assets_cache_mb)

    @property
    def database_url(self) -> str:
        """The catalog's and checkpoints' database: a postgresql:// URL, or the workspace's SQLite file."""
        return self._database_url or f"sqlite:///{self.db_path}"

    @property
    def postgres(self) -> bool:
        return postgres_url(self._database_url)

    @property
    def where(self) -> str:
        """The database, fit to print (no password)."""
        return shown_url(self.database_url) if self.postgres else str(self.db_path)

    @property
    def db_path(self) -> Path:
        """The SQLite file: director.db in the workspace, unless DIRECTOR_DATABASE_URL names another."""
        if self._database_url and not self.postgres:
            named = make_url(self._database_url).database
            if named and named != ":memory:":
                return Path(named).expanduser().resolve()
        return self.root / "director.db"

    @property
    def assets_dir(self) -> Path:
        return self.root / "assets"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def cache_dir(self) -> Path:
        """Derived files that can be rebuilt (normalised segments, sound tracks); safe to delete at any time."""
        return self.root / "cache"

    def cached(self, kind: str, inputs: Any, suffix: str, make: Callable[[Path], None]) -> Path:
        """cache/<kind>/<hash of inputs><suffix>, made by make(tmp) the first time.

        The file appears whole or not at all: make() writes a temp name that is
        renamed into place, so a killed process leaves nothing half-written.
        """
        key = hashlib.sha256(canonical_json(inputs).encode()).hexdigest()
        path = self.cache_dir / kind / key[:2] / f"{key}{suffix}"
        if path.is_file():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{key}.{uuid.uuid4().hex}{suffix}")
        try:
            make(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    def run_dir(self, run_id: str) -> Path:
        return self.runs_dir / run_id

    def abspath(self, rel: str) -> Path:
        return self.root / rel

    def has_db(self) -> bool:
        """Whether a catalog may be here (on Postgres, opening it tells)."""
        return self.postgres or self.db_path.is_file()

    def _sweep_tmp(self, older_than_s: float = 3600.0) -> None:
        """Remove half-written files a killed process left in tmp/ (never in assets/)."""
        import time

        cutoff = time.time() - older_than_s
        for entry in self.tmp_dir.iterdir():
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            except OSError:
                pass  # another process is using or removing it

    def prepare(self) -> None:
        """Create the layout; InputError (one line) if the place cannot hold it."""
        try:
            if self.root.exists() and not self.root.is_dir():
                raise InputError(f"workspace {self.root} exists and is not a directory")
            for d in (self.root, self.assets_dir, self.runs_dir, self.tmp_dir):
                d.mkdir(parents=True, exist_ok=True)
            probe = self.tmp_dir / f".write-test-{uuid.uuid4().hex}"
            probe.write_bytes(b"")
            probe.unlink()
            self._sweep_tmp()
        except InputError:
            raise
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            raise InputError(f"workspace {self.root} is not writable: {reason}") from exc

