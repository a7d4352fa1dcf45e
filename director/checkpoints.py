"""Checkpoints: the SqliteSaver on the workspace database, compressed with xz."""

from __future__ import annotations

import lzma
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from director.store import SQLITE_TIMEOUT_S, Workspace, sqlite_pragmas


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


@contextmanager
def open_checkpointer(workspace: Workspace, *, readonly: bool = False) -> Iterator[Any]:
    """SqliteSaver on <workspace>/director.db (WAL, busy timeout, xz), closed afterwards.

    readonly opens it without locks or WAL files, for a workspace this process may not write."""
    from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
    from langgraph.checkpoint.sqlite import SqliteSaver

    if readonly:
        conn = sqlite3.connect(f"file:{workspace.db_path}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(workspace.db_path, check_same_thread=False, timeout=SQLITE_TIMEOUT_S)
        sqlite_pragmas(conn)
    try:
        saver = SqliteSaver(conn, serde=EncryptedSerializer(CheckpointCodec(), JsonPlusSerializer()))
        saver.is_setup = saver.is_setup or readonly  # the tables exist; creating them would be a write
        yield saver
    finally:
        conn.close()


def started(snapshot: Any) -> bool:
    """Whether a checkpoint holds a whole state. The graph's input checkpoint does not: its values
    are only pending writes (a run killed there never took its first step), so it starts again."""
    if snapshot is None or "goal" not in (snapshot.values or {}) or "run_id" not in (snapshot.values or {}):
        return False
    return (snapshot.metadata or {}).get("source") != "input"

