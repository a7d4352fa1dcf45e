"""Workspace layout, the content-addressed asset store and the sqlmodel catalog.

<workspace>/
  director.db        catalog tables (runs, assets, tool_calls) + LangGraph checkpoints
  assets/ab/<sha256>.<ext>
  runs/<run_id>/     final.mp4, subtitles.srt, storyboard.html, manifest.json
  tmp/               half-written files; renamed into assets/ only when complete
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, Column, event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Field, Session, SQLModel, create_engine, select

from director.errors import DirectorError, InputError, RunStateError, StorageError, UnknownRun
from director.state import AssetKind, AssetRef

log = logging.getLogger(__name__)

SQLITE_TIMEOUT_S = 30.0

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


def utcnow() -> datetime:
    return datetime.now(UTC)


def sqlite_pragmas(conn: sqlite3.Connection) -> None:
    """WAL + busy timeout so two processes can share one workspace."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={int(SQLITE_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA synchronous=NORMAL")


# --- catalog tables -----------------------------------------------------------


class RunRow(SQLModel, table=True):
    __tablename__ = "runs"

    id: str = Field(primary_key=True)
    goal: str
    status: str = "running"
    created: datetime = Field(default_factory=utcnow)
    updated: datetime = Field(default_factory=utcnow)
    options_json: str = "{}"
    backend: str = "local"
    final_path: str | None = None
    error: str | None = None
    pid: int | None = None
    host: str | None = None
    parent_run: str | None = None
    parent_checkpoint: str | None = None
    budget_usd: float | None = None


class AssetRow(SQLModel, table=True):
    __tablename__ = "assets"

    sha256: str = Field(primary_key=True)
    kind: str
    path: str
    bytes: int = Field(sa_column=Column(BigInteger, nullable=False))  # Postgres' INTEGER stops at 2 GB
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    created: datetime = Field(default_factory=utcnow)


class CallRow(SQLModel, table=True):
    __tablename__ = "tool_calls"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(index=True)
    call_id: str
    key: str = Field(index=True)
    tool: str
    args_json: str
    result_json: str | None = None
    backend: str
    model: str
    ms: int = 0
    error: str | None = None
    reused: bool = False
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    attempts: int = 1
    retry_log: str | None = None
    created: datetime = Field(default_factory=utcnow)


# --- migrations: numbered functions, applied once each, in order ---------------


def m001_initial(engine: Engine) -> None:
    SQLModel.metadata.create_all(
        engine,
        tables=[RunRow.__table__, AssetRow.__table__, CallRow.__table__],  # type: ignore[attr-defined]
    )


def _add_columns(engine: Engine, table: str, columns: dict[str, str]) -> None:
    with engine.begin() as conn:
        have = {column["name"] for column in inspect(conn).get_columns(table)}
        for name, ddl in columns.items():
            if name not in have:
                conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {name} {ddl}")


def m002_usage_and_budget(engine: Engine) -> None:
    _add_columns(engine, "tool_calls", {"input_tokens": "INTEGER NOT NULL DEFAULT 0",
                                        "output_tokens": "INTEGER NOT NULL DEFAULT 0",
                                        "attempts": "INTEGER NOT NULL DEFAULT 1", "retry_log": "VARCHAR"})
    _add_columns(engine, "runs", {"budget_usd": "FLOAT"})


def m003_asset_checks(engine: Engine) -> None:
    """The file state (size, mtime, inode) at which each asset last hashed to its name."""
    _add_columns(engine, "assets", {"checked_size": "BIGINT", "checked_mtime_ns": "BIGINT",
                                    "checked_ino": "BIGINT"})


def m004_leases(engine: Engine) -> None:
    """One writer per run: who holds it, since when, until when unless renewed."""
    with engine.begin() as conn:
        # DOUBLE PRECISION: epoch seconds in Postgres' 4-byte REAL would be 2 minutes coarse.
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS leases (run_id TEXT PRIMARY KEY, owner TEXT NOT NULL, "
                             "pid INTEGER, host TEXT, command TEXT, since DOUBLE PRECISION NOT NULL, "
                             "expires DOUBLE PRECISION NOT NULL)")


def m005_events(engine: Engine) -> None:
    """A run's progress events, numbered per run, so any process can read them from any point."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS events (run_id TEXT NOT NULL, seq INTEGER NOT NULL, "
                             "at TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (run_id, seq))")


def m006_run_host(engine: Engine) -> None:
    """Which machine drives a run: its pid means something only there (servers sharing Postgres)."""
    _add_columns(engine, "runs", {"host": "VARCHAR"})


def m007_jobs(engine: Engine) -> None:
    """Long-running provider jobs (a Veo operation, an Omni interaction) by the memo key of the call that
    started them, saved the moment the provider names them: a resume polls the job instead of paying for
    another."""
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS jobs (key TEXT PRIMARY KEY, provider TEXT NOT NULL, "
                             "model TEXT NOT NULL, name TEXT NOT NULL, run_id TEXT, started DOUBLE PRECISION NOT NULL)")


MIGRATIONS: list[Callable[[Engine], None]] = [m001_initial, m002_usage_and_budget, m003_asset_checks, m004_leases,
                                              m005_events, m006_run_host, m007_jobs]


def _require_catalog(engine: Engine, workspace: Workspace) -> None:
    """An existing database that holds a catalog (an empty file is not one)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    if "runs" not in names:
        if workspace.postgres:
            raise InputError(f"no Director runs in {shown_url(workspace.database_url)} (it holds no catalog)")
        raise InputError(f"no Director runs in {workspace.root} ({workspace.db_path.name} holds no catalog)")


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


@dataclass
class LeaseHolder:
    """Who holds a run's lease."""

    owner: str
    pid: int | None
    host: str
    command: str
    since: float
    expires: float


def migrate(engine: Engine) -> None:
    """Apply the numbered migrations not yet applied, in order; the same steps on SQLite and Postgres."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS _director_migrations (name TEXT PRIMARY KEY, applied TEXT)"
        )
        done = {row[0] for row in conn.exec_driver_sql("SELECT name FROM _director_migrations")}
    for step in MIGRATIONS:
        if step.__name__ in done:
            continue
        step(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO _director_migrations VALUES (:name, :at) ON CONFLICT DO NOTHING"),
                         {"name": step.__name__, "at": utcnow().isoformat()})


MIGRATION_LOCK_KEY = 0x6469726563746F72  # "director": the advisory lock every process migrates under


@contextmanager
def postgres_migration_lock(engine: Engine) -> Iterator[None]:
    """A Postgres advisory lock (one per database) for the duration of a migration."""
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()


@contextmanager
def migration_lock(path: Path) -> Iterator[None]:
    """An exclusive inter-process lock (flock) for the duration of a migration."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: SQLite's busy timeout is all there is
        yield
        return
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


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


# --- catalog ------------------------------------------------------------------

_POSTGRES: dict[str, Engine] = {}
_POSTGRES_MIGRATED: set[str] = set()
_POSTGRES_LOCK = threading.Lock()


def _postgres_engine(workspace: Workspace, *, create: bool) -> Engine:
    """One pooled engine per Postgres URL per process, migrated once (under an advisory lock)."""
    url = workspace.database_url
    with _POSTGRES_LOCK:
        engine = _POSTGRES.get(url)
        if engine is None:
            sa_url = make_url(url).set(drivername="postgresql+psycopg")
            # UTC, so the catalog's naive timestamps mean the same on every machine.
            engine = _POSTGRES[url] = create_engine(sa_url, pool_pre_ping=True, pool_size=5, max_overflow=20,
                                                    connect_args={"options": "-c timezone=UTC",
                                                                  "connect_timeout": 10})
        try:
            if url not in _POSTGRES_MIGRATED:
                if create:
                    with postgres_migration_lock(engine):
                        migrate(engine)
                    _POSTGRES_MIGRATED.add(url)
                else:
                    _require_catalog(engine, workspace)
        except DATABASE_ERRORS as exc:
            raise storage_error(exc, workspace) from None
    return engine



class Catalog:
    """Runs, assets and every tool call, in <workspace>/director.db."""

    def __init__(self, engine: Engine, *, readonly: bool = False) -> None:
        self.engine = engine
        self.readonly = readonly
        """Opened read-only (a workspace this process may not write): runs and history still work."""

    @classmethod
    def open(cls, workspace: Workspace, *, create: bool) -> Catalog:
        if workspace.postgres:
            return cls(_postgres_engine(workspace, create=create))
        if not create and not workspace.has_db():
            raise InputError(f"no Director runs in {workspace.root} (no director.db there)")
        engine = create_engine(
            f"sqlite:///{workspace.db_path}",
            connect_args={"timeout": SQLITE_TIMEOUT_S, "check_same_thread": False},
        )
        event.listen(engine, "connect", lambda dbapi_conn, _rec: sqlite_pragmas(dbapi_conn))
        try:
            if create:
                # Two processes opening a new workspace at once would both create the tables;
                # one migrates while the other waits, then finds nothing left to do.
                with migration_lock(workspace.root / ".director-migrate.lock"):
                    migrate(engine)
            else:
                _require_catalog(engine, workspace)
        except (sqlite3.Error, SQLAlchemyError, OSError) as exc:
            if create or not readonly_problem(exc):
                raise storage_error(exc, workspace) from None
            # A workspace we may read but not write: open it read-only, without locks or WAL files.
            engine.dispose()
            engine = create_engine(f"sqlite:///file:{workspace.db_path}?mode=ro&immutable=1&uri=true",
                                   connect_args={"check_same_thread": False})
            try:
                _require_catalog(engine, workspace)
            except (sqlite3.Error, SQLAlchemyError) as again:
                raise storage_error(again, workspace) from None
            return cls(engine, readonly=True)
        return cls(engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # runs
    def create_run(self, row: RunRow) -> None:
        """A new run's row; RunStateError when another request made a run of that id first (one wins)."""
        from sqlalchemy.exc import IntegrityError

        with self.session() as s:
            s.add(row)
            try:
                s.commit()
            except IntegrityError:
                raise RunStateError(f"run {row.id!r} already exists; pick another id") from None

    def get_run(self, run_id: str) -> RunRow | None:
        with self.session() as s:
            return s.get(RunRow, run_id)

    def require_run(self, run_id: str) -> RunRow:
        row = self.get_run(run_id)
        if row is None:
            raise UnknownRun(f"unknown run id {run_id[:80]!r} (see `director runs`)")
        return row

    def update_run(self, run_id: str, **fields: Any) -> None:
        with self.session() as s:
            row = s.get(RunRow, run_id)
            if row is None:
                return
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated = utcnow()
            s.add(row)
            s.commit()

    def list_runs(self) -> list[RunRow]:
        with self.session() as s:
            return list(s.exec(select(RunRow).order_by(RunRow.created.desc())))  # type: ignore[attr-defined]

    # assets
    def add_asset(self, ref: AssetRef) -> None:
        # Two calls can make identical bytes at the same moment: first writer wins, quietly.
        row = {**ref.model_dump(exclude={"kind"}), "kind": ref.kind, "created": utcnow()}
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
        with self.engine.begin() as conn:
            conn.execute(insert(AssetRow.__table__).values(**row).on_conflict_do_nothing())  # type: ignore[attr-defined]

    def asset_check(self, sha: str) -> tuple[int, int, int] | None:
        """(size, mtime_ns, inode) of the file when it last hashed right, if it ever did."""
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT checked_size, checked_mtime_ns, checked_ino FROM assets "
                                    "WHERE sha256 = :sha"), {"sha": sha}).first()
        return tuple(row) if row and row[0] is not None else None  # type: ignore[return-value]

    def set_asset_check(self, sha: str, state: tuple[int, int, int] | None) -> None:
        size, mtime, ino = state or (None, None, None)
        with self.engine.begin() as conn:
            conn.execute(text("UPDATE assets SET checked_size = :size, checked_mtime_ns = :mtime, "
                              "checked_ino = :ino WHERE sha256 = :sha"),
                         {"size": size, "mtime": mtime, "ino": ino, "sha": sha})

    def get_asset(self, sha: str) -> AssetRow | None:
        with self.session() as s:
            return s.get(AssetRow, sha)

    def list_assets(self) -> list[AssetRow]:
        with self.session() as s:
            return list(s.exec(select(AssetRow)))

    # events
    def add_event(self, run_id: str, event: dict[str, Any]) -> int:
        """Append one event to the run's log; returns its number (1, 2, ...). Only the lease holder writes."""
        from sqlalchemy.exc import IntegrityError

        for attempt in range(5):
            try:
                with self.engine.begin() as conn:
                    seq = conn.execute(text("SELECT COALESCE(MAX(seq), 0) + 1 FROM events WHERE run_id = :run"),
                                       {"run": run_id}).scalar_one()
                    conn.execute(text("INSERT INTO events VALUES (:run, :seq, :at, :type, :body)"),
                                 {"run": run_id, "seq": seq, "at": utcnow().isoformat(),
                                  "type": str(event.get("type", "")), "body": canonical_json(event)})
                return int(seq)
            except IntegrityError:  # two threads took the same number (Postgres reads committed): the next one
                if attempt == 4:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def events(self, run_id: str, *, after: int = 0) -> list[dict[str, Any]]:
        """The run's events numbered above `after`, in order, each with its "seq"."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT seq, body FROM events WHERE run_id = :run AND seq > :after "
                                     "ORDER BY seq"), {"run": run_id, "after": after}).all()
        return [{**json.loads(body), "seq": seq} for seq, body in rows]

    # leases
    def take_lease(self, run_id: str, holder: LeaseHolder, *, alive: Callable[[LeaseHolder], bool]) -> LeaseHolder | None:
        """Take the run's lease for `holder`; if a live, unexpired other holds it, return that holder.

        Each step is one atomic statement, so two processes can never both win: an insert
        that only replaces an expired lease, then a compare-and-swap on the owner token
        when the holder's process is known to be dead."""
        values = {"run": run_id, "owner": holder.owner, "pid": holder.pid, "host": holder.host,
                  "command": holder.command, "since": holder.since, "expires": holder.expires}
        with self.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO leases VALUES (:run, :owner, :pid, :host, :command, :since, :expires) "
                "ON CONFLICT(run_id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host, "
                "command = excluded.command, since = excluded.since, expires = excluded.expires "
                "WHERE leases.expires < :now OR leases.owner = excluded.owner"), {**values, "now": time.time()})
        current = self.lease_of(run_id)
        if current is None or current.owner == holder.owner:
            return None
        if not alive(current):
            with self.engine.begin() as conn:
                taken = conn.execute(text(
                    "UPDATE leases SET owner = :owner, pid = :pid, host = :host, command = :command, since = :since, "
                    "expires = :expires WHERE run_id = :run AND owner = :was"), {**values, "was": current.owner}).rowcount
            if taken:
                return None
            current = self.lease_of(run_id)
        return current

    def renew_lease(self, run_id: str, owner: str, expires: float) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(text("UPDATE leases SET expires = :expires WHERE run_id = :run AND owner = :owner"),
                                {"expires": expires, "run": run_id, "owner": owner})
            return bool(done.rowcount)

    def drop_lease(self, run_id: str, owner: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM leases WHERE run_id = :run AND owner = :owner"),
                         {"run": run_id, "owner": owner})

    # long-running jobs
    def job(self, key: str) -> tuple[str, str, str] | None:
        """(provider, model, name) of the job a call with this memo key started, if one is saved."""
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT provider, model, name FROM jobs WHERE key = :key"), {"key": key}).first()
        return (row[0], row[1], row[2]) if row else None

    def save_job(self, key: str, *, provider: str, model: str, name: str, run_id: str | None) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM jobs WHERE key = :key"), {"key": key})
            conn.execute(text("INSERT INTO jobs (key, provider, model, name, run_id, started) "
                              "VALUES (:key, :provider, :model, :name, :run_id, :started)"),
                         {"key": key, "provider": provider, "model": model, "name": name, "run_id": run_id,
                          "started": time.time()})

    def drop_unsure_jobs(self, run_id: str) -> int:
        """Forget a run's starts that were sent but never answered, so they are made again."""
        with self.engine.begin() as conn:
            return conn.execute(text("DELETE FROM jobs WHERE run_id = :run AND name = ''"), {"run": run_id}).rowcount

    def drop_job(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(text("DELETE FROM jobs WHERE key = :key"), {"key": key})

    def lease_of(self, run_id: str) -> LeaseHolder | None:
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT owner, pid, host, command, since, expires FROM leases "
                                    "WHERE run_id = :run"), {"run": run_id}).first()
        return LeaseHolder(*row) if row else None

    # tool calls
    def record_call(self, row: CallRow) -> None:
        with self.session() as s:
            s.add(row)
            s.commit()

    def find_memo(self, key: str) -> CallRow | None:
        """The first successful execution with this key, if any."""
        with self.session() as s:
            stmt = (
                select(CallRow)
                .where(CallRow.key == key, CallRow.error.is_(None), CallRow.result_json.is_not(None))  # type: ignore[union-attr]
                .order_by(CallRow.id)  # type: ignore[arg-type]
                .limit(1)
            )
            return s.exec(stmt).first()

    def last_call_id(self) -> int:
        with self.session() as s:
            return int(s.exec(select(CallRow.id).order_by(CallRow.id.desc()).limit(1)).first() or 0)  # type: ignore[union-attr]

    def run_spend(self, run_id: str) -> float:
        with self.session() as s:
            rows = s.exec(select(CallRow.cost_usd).where(CallRow.run_id == run_id))
            return float(sum(rows))

    def run_calls(self, run_id: str) -> list[CallRow]:
        with self.session() as s:
            stmt = select(CallRow).where(CallRow.run_id == run_id).order_by(CallRow.id)  # type: ignore[arg-type]
            return list(s.exec(stmt))


# --- asset store --------------------------------------------------------------

_EXT = {"image": ".png", "audio": ".wav", "video": ".mp4", "subtitles": ".srt", "document": ".json"}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class AssetStore:
    """Files named by content hash. Writers fill a temp file, then put() renames it in.

    With DIRECTOR_ASSETS_URL the store of record is shared (director.objects): put() also
    uploads, and assets/ becomes a bounded local read cache that path() fills on demand."""

    def __init__(self, workspace: Workspace, catalog: Catalog) -> None:
        self.workspace = workspace
        self.catalog = catalog
        self.shared = None
        if workspace.assets_url:
            from director.objects import SharedAssets

            self.shared = SharedAssets(workspace.assets_url, workspace.assets_dir, workspace.tmp_dir,
                                       workspace.assets_cache_mb << 20)

    def temp_path(self, suffix: str) -> Path:
        return self.workspace.tmp_dir / f"{uuid.uuid4().hex}{suffix}"

    def path(self, ref: AssetRef) -> Path:
        """The asset's local file; from a shared store it is downloaded (and checked) first if not cached."""
        local = self.workspace.abspath(ref.path)
        if self.shared is None:
            return local
        if not self._whole(local, ref.sha256, size=ref.bytes):
            self.shared.download(ref.path, local, ref.sha256)
            st = local.stat()
            self.catalog.set_asset_check(ref.sha256, (st.st_size, st.st_mtime_ns, st.st_ino))
            self.shared.evict(keep=local)
        self.shared.touch(local)
        return local

    def verify(self, ref: AssetRef) -> bool:
        """Whether the asset is there and still holds the bytes its name promises (in a shared store:
        whole in the local cache, or an object of the right size that path() checks as it fetches it)."""
        if self._whole(self.workspace.abspath(ref.path), ref.sha256, size=ref.bytes):
            return True
        return self.shared is not None and self.shared.size(ref.path) == ref.bytes

    def _whole(self, path: Path, sha: str, *, size: int | None = None) -> bool:
        """Hash the file unless it is unchanged (size, mtime, inode) since it last hashed right."""
        try:
            st = path.stat()
        except OSError:
            return False
        if not path.is_file() or size is not None and st.st_size != size:
            return False
        state = (st.st_size, st.st_mtime_ns, st.st_ino)
        if self.catalog.asset_check(sha) == state:
            return True
        if sha256_file(path) != sha:
            log.warning("asset %s is damaged: its bytes no longer hash to its name", path.name)
            return False
        self.catalog.set_asset_check(sha, state)
        return True

    def put(self, src: Path, kind: AssetKind) -> AssetRef:
        """Move a finished temp file into the store (atomic rename) and catalog it.

        A file already at the name is kept only when its bytes match; a damaged one is replaced."""
        if not src.is_file() or src.stat().st_size == 0:
            raise OSError(f"asset file {src} is missing or empty")
        sha = sha256_file(src)
        ext = src.suffix or _EXT[kind]
        rel = f"assets/{sha[:2]}/{sha}{ext}"
        dest = self.workspace.abspath(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if self._whole(dest, sha):  # the same bytes are already there (a damaged file is replaced)
            src.unlink()
        else:
            os.replace(src, dest)
        st = dest.stat()
        ref = AssetRef(sha256=sha, kind=kind, path=rel, bytes=st.st_size, **describe(dest, kind))
        if self.shared is not None:  # in the store of record before anyone can name it
            self.shared.upload(dest, rel)
        self.catalog.add_asset(ref)
        self.catalog.set_asset_check(sha, (st.st_size, st.st_mtime_ns, st.st_ino))
        if self.shared is not None:
            self.shared.touch(dest)
            self.shared.evict(keep=dest)
        return ref

    def put_text(self, text: str, kind: AssetKind, suffix: str) -> AssetRef:
        tmp = self.temp_path(suffix)
        tmp.write_text(text, encoding="utf-8")
        return self.put(tmp, kind)

    def publish(self, ref: AssetRef, dest: Path) -> None:
        """Place an asset at a friendly path: a hard link when possible, else a copy."""
        source = self.path(ref)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists() and os.path.samefile(source, dest):
            return  # already this asset (renaming a link over its twin would leave the temp link behind)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}")
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, dest)


def describe(path: Path, kind: AssetKind) -> dict[str, Any]:
    """Width/height/duration for an asset, as far as they apply."""
    from director import media

    if kind == "image":
        from PIL import Image

        with Image.open(path) as im:
            return {"width": im.width, "height": im.height}
    if kind == "audio" and path.suffix == ".wav":
        return {"duration": round(media.wav_duration(path), 4)}
    if kind in ("audio", "video"):
        p = media.probe(path)
        return {"width": p.width, "height": p.height, "duration": p.duration}
    return {}


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
