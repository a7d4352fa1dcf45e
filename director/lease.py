"""One writer per run: a lease in the catalog, renewed while a command works on the run.

A command that would change a run (make, resume, say, replay, fork, chat)
takes the run's lease first. A second command on the same run gets RunBusy
(one line, exit 2) or, with wait=True, waits its turn. The lease is renewed
every few seconds by a daemon thread; a holder that crashed stops renewing
and its lease expires, and on the same host a holder whose process is gone
is replaced at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime

from director.errors import RunStateError
from director.store import Catalog, LeaseHolder, RunRow

log = logging.getLogger(__name__)

TTL_S = 30.0
"""A lease not renewed for this long is free; holders renew every TTL_S / 3."""


class RunBusy(RunStateError):
    """Another live command holds the run."""


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def effective_status(row: RunRow, catalog: Catalog | None = None) -> str:
    """'running' only while the process that runs it is alive; otherwise 'interrupted'.

    On this host the process is looked up; a run driven from another host (servers sharing
    Postgres) is running while its lease is renewed, which needs the catalog."""
    if row.status != "running":
        return row.status
    host = getattr(row, "host", None)
    if host and host != socket.gethostname():
        if catalog is None:
            return row.status
        holder = catalog.lease_of(row.id)
        return "running" if holder is not None and holder.expires > time.time() else "interrupted"
    if not (row.pid == os.getpid() or pid_alive(row.pid)):
        return "interrupted"
    return row.status


def holder_alive(holder: LeaseHolder) -> bool:
    """On this host a holder's process can be checked; elsewhere only its expiry tells."""
    if holder.host == socket.gethostname():
        return pid_alive(holder.pid)
    return True


def describe(run_id: str, holder: LeaseHolder) -> str:
    since = datetime.fromtimestamp(holder.since).strftime("%Y-%m-%d %H:%M:%S")
    return (f"run {run_id} is busy: pid {holder.pid} ({holder.command}) since {since}; "
            f"wait for it, or add --wait to queue behind it")


class Lease:
    """The right to change one run, held until release()."""

    def __init__(self, catalog: Catalog, run_id: str, command: str) -> None:
        self.catalog = catalog
        self.run_id = run_id
        self.command = command
        self.owner = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def acquire(self, *, wait: bool = False, poll_s: float = 0.5,
                on_wait: Callable[[str], None] | None = None) -> Lease:
        told = False
        while True:
            now = time.time()
            holder = LeaseHolder(self.owner, os.getpid(), socket.gethostname(), self.command, now, now + TTL_S)
            busy = self.catalog.take_lease(self.run_id, holder, alive=holder_alive)
            if busy is None:
                break
            if not wait:
                raise RunBusy(describe(self.run_id, busy))
            if on_wait is not None and not told:
                on_wait(describe(self.run_id, busy).split(";")[0] + "; waiting")
                told = True
            time.sleep(poll_s)
        self._thread = threading.Thread(target=self._renew, name=f"lease-{self.run_id}", daemon=True)
        self._thread.start()
        return self

    def _renew(self) -> None:
        while not self._stop.wait(TTL_S / 3):
            try:
                if not self.catalog.renew_lease(self.run_id, self.owner, time.time() + TTL_S):
                    log.warning("lost the lease on run %s", self.run_id)
                    return
            except Exception:  # noqa: BLE001 - a busy database: try again at the next beat
                log.debug("lease renewal failed", exc_info=True)

    def release(self) -> None:
        self._stop.set()
        try:
            self.catalog.drop_lease(self.run_id, self.owner)
        except Exception:  # noqa: BLE001 - an expired lease frees itself
            log.debug("lease release failed", exc_info=True)
