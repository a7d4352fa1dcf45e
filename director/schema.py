"""The catalog's schema: its sqlmodel rows, the lease record, and the numbered migrations that build the tables.

Migrations run once each, in order, the same steps on SQLite and Postgres, under a lock (flock on SQLite,
an advisory lock on Postgres) so two processes opening one database never both migrate it.
Catalog (director.catalog) reads and writes these tables; director.store re-exports every name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import BigInteger, Column, inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


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


# --- the leases table's record -------------------------------------------------


@dataclass
class LeaseHolder:
    """Who holds a run's lease."""

    owner: str
    pid: int | None
    host: str
    command: str
    since: float
    expires: float


# --- applying the migrations, one process at a time ---------------------------


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

