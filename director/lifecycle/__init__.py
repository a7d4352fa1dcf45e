"""The lifecycle layer: make, resume, say, replay and fork, for every face (CLI, Python, HTTP).

Each command checks its input, takes the run's lease, works out where the graph
goes on from (a Continuation) and hands it to one continuation path, which
marks the run running, announces it and drives the graph, on this thread or a
worker. What a face reads about a run comes from the catalog (rows, events,
leases), never from the memory of the process that runs it.

Its rooms, each a layer over the one before:

- session: what a run needs (Session), built once per command, and the graph it drives;
- driving: the one continuation path, driving the graph and settling the run's status;
- continuing: resume, say, replay, fork and cancel, each working out where the run goes on from;
- starting: make, from a goal and its options;
- views: what the faces read (runs, events, the latest state, history, health).
"""

from __future__ import annotations

from director.lifecycle.session import Continuation, Session, clip_rate, resolved, stop_on_signals
from director.lifecycle.starting import Starting
from director.lifecycle.views import Views

__all__ = ["Continuation", "Lifecycle", "Session", "clip_rate", "resolved", "stop_on_signals"]


class Lifecycle(Starting, Views):
    """make / resume / say / replay / fork / cancel over one workspace, shared by every face.

    With an executor, background runs go to its workers (the HTTP server's pool);
    without one each gets its own thread.
    """
