"""Checkpoints: LangGraph's SqliteSaver on the workspace database, or its PostgresSaver on
DIRECTOR_DATABASE_URL, compressed with xz either way."""

from __future__ import annotations

import lzma
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from director.store import MIGRATION_LOCK_KEY, SQLITE_TIMEOUT_S, Workspace, sqlite_pragmas

_SET_UP: set[str] = set()
_SET_UP_LOCK = threading.Lock()


class CheckpointCodec:
    """Compression as the byte transform of langgraph's EncryptedSerializer.

    SqliteSaver writes the whole state on every super-step. xz (LZMA) shrinks
    a 40-scene state from 106 KB to 16 KB where zlib gets 21 KB: its window
    spans the whole state, so the prompts in the tool calls find their twins
    in the storyboard. It costs about 35 ms per 100 KB. EncryptedSerializer is
    langgraph's one pluggable byte transform that keeps the strict-msgpack
    allowlist working, so compression rides on it; rows without a "+codec"
    suffix in their type still load.
    """

    name = "xz"

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        return self.name, lzma.compress(plaintext, preset=6)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        if ciphername == self.name:
            return lzma.decompress(ciphertext)
        raise ValueError(f"checkpoint written with {ciphername!r}, which this Director cannot read")


def serializer() -> Any:
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return EncryptedSerializer(CheckpointCodec(), JsonPlusSerializer())


@contextmanager
def open_checkpointer(workspace: Workspace, *, readonly: bool = False) -> Iterator[Any]:
    """SqliteSaver on <workspace>/director.db (WAL, busy timeout, xz), or PostgresSaver on the
    workspace's postgresql:// URL; closed afterwards.

    readonly opens SQLite without locks or WAL files, for a workspace this process may not write."""
    if workspace.postgres:
        with _postgres_checkpointer(workspace.database_url) as saver:
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    if readonly:
        conn = sqlite3.connect(f"file:{workspace.db_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(workspace.db_path, check_same_thread=False, timeout=SQLITE_TIMEOUT_S)
        sqlite_pragmas(conn)
    try:
        saver = SqliteSaver(conn, serde=serializer())
        saver.is_setup = saver.is_setup or readonly  # the tables exist; creating them would be a write
        yield saver
    finally:
        conn.close()


@contextmanager
def _postgres_checkpointer(url: str) -> Iterator[Any]:
    """PostgresSaver on its own connection; its tables are set up once per process, under the
    advisory lock the catalog migrates under, so two processes never race to create them."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg import Connection
    from psycopg.rows import dict_row

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    with Connection.connect(conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row,
                            connect_timeout=10) as conn:
        saver = PostgresSaver(conn, serde=serializer())
        with _SET_UP_LOCK:
            if url not in _SET_UP:
                conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
                try:
                    saver.setup()
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
                _SET_UP.add(url)
        yield saver


def started(snapshot: Any) -> bool:
    """Whether a checkpoint holds a whole state. The graph's input checkpoint does not: its values
    are only pending writes (a run killed there never took its first step), so it starts again."""
    if snapshot is None or "goal" not in (snapshot.values or {}) or "run_id" not in (snapshot.values or {}):
        return False
    return (snapshot.metadata or {}).get("source") != "input"

