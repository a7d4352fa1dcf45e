"""The catalog: runs, assets, events, leases, provider jobs and every tool call, over SQLite or Postgres.

Catalog.open() gives one per workspace: a SQLite file (WAL, so processes can share it; read-only when this
user may not write it) or a pooled Postgres engine shared by the whole process. The tables and their
migrations are in director.schema; director.store re-exports every name.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine, select

from director.errors import InputError, RunStateError, UnknownRun
from director.schema import (
    AssetRow,
    CallRow,
    LeaseHolder,
    RunRow,
    migrate,
    migration_lock,
    postgres_migration_lock,
    utcnow,
)
from director.state import AssetRef
from director.workspace import (
    DATABASE_ERRORS,
    Workspace,
    canonical_json,
    readonly_problem,
    shown_url,
    storage_error,
)

SQLITE_TIMEOUT_S = 30.0


def sqlite_pragmas(conn: sqlite3.Connection) -> None:
    """WAL + busy timeout so two processes can share one workspace."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA busy_timeout={int(SQLITE_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA synchronous=NORMAL")


def _require_catalog(engine: Engine, workspace: Workspace) -> None:
    """An existing database that holds a catalog (an empty file is not one)."""
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    if "runs" not in names:
        if workspace.postgres:
            raise InputError(f"no Director runs in {shown_url(workspace.database_url)} (it holds no catalog)")
        raise InputError(f"no Director runs in {workspace.root} ({workspace.db_path.name} holds no catalog)")


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

