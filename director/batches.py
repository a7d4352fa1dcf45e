"""Batches: many goals made overnight under one budget, with one progress display, a summary at the end, and a
resume that finishes what a crash or the budget left.

    director batch goals.jsonl --concurrency 2 --budget 20     # JSON Lines or CSV: a goal and its options per row
    director batch --resume batch-20261207-0412-ab12            # after a kill, a Ctrl-C or a spent budget

Each row is checked against the make options' one declaration (director.options) before anything runs, and a bad
row is reported with its line number and left out. The rows then run through the lifecycle, at most
`concurrency` at once, each as an ordinary run (`<batch id>-<line>`): checkpointed, memoised, resumable on its own.
One account over all of them (BudgetGuard.pool) holds the batch's budget. What the batch is (its rows, their run
ids, its budget) is kept in <workspace>/batches/<id>/batch.json, its events in events.jsonl, and its summary in
summary.csv and summary.json, rewritten as each row ends.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from director.errors import DirectorError, InputError, RunStateError
from director.options import MAX_BUDGET_USD, MAX_TEXT_CHARS, MakeOptions
from director.publish import write_atomic

log = logging.getLogger(__name__)

MAX_ROWS = 1000
MAX_CONCURRENCY = 8
LIST_SEPARATOR = ";"
"""A CSV cell that holds several sources separates them with this."""
BATCH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,47}")
RESTING = frozenset({"done", "paused", "cancelled"})
"""A row whose run rests here is not run again by a resume (a paused run waits for the user's answer)."""
SUMMARY_FIELDS = ("line", "run_id", "goal", "status", "seconds", "cost_usd", "final", "error")

OnBatchEvent = Callable[[dict[str, Any]], None]


class Row(BaseModel):
    """One line of a batch file: its goal and options as checked, or why it was refused."""

    line: int = Field(description="Its line number in the file (the first row of a CSV is line 2, after the header).")
    goal: str = Field("", description="What the video should be.")
    options: dict[str, Any] = Field(default_factory=dict, description="The make options it gives, checked.")
    run_id: str | None = Field(None, description="The run that makes it.")
    error: str | None = Field(None, description="Why the row was refused before anything ran.")


class Batch(BaseModel):
    """A batch as saved in batches/<id>/batch.json."""

    id: str
    created: str
    source: str = Field(description="The file's name (or 'http').")
    concurrency: int = Field(ge=1, le=MAX_CONCURRENCY)
    budget_usd: float | None = Field(None, ge=0, le=MAX_BUDGET_USD)
    rows: list[Row]

    @property
    def good(self) -> list[Row]:
        return [r for r in self.rows if r.error is None]

    @property
    def bad(self) -> list[Row]:
        return [r for r in self.rows if r.error is not None]


def new_batch_id() -> str:
    return f"batch-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}"


def read_rows(path: Path) -> tuple[list[tuple[int, dict[str, Any]]], bool]:
    """(line number, fields) for each row of a JSON Lines or CSV file, and whether its values are typed (JSON's
    are taken as they are, "3" is no number; a CSV's are text, read as each option's type); InputError, in one
    line, for a file that is neither (a bad row is not an error here: check_rows names it)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"no batch file {str(path)!r}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path.name} is not text: a batch file is JSON Lines or CSV, in UTF-8") from None
    except OSError as exc:
        raise InputError(f"cannot read {path.name}: {exc.strerror}") from None
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), "")
    if not first:
        raise InputError(f"{path.name} has no rows: put one goal per line (JSON Lines) or a CSV with a goal column")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json") or first.startswith("{"):
        return json_lines(text), True
    return csv_rows(text, path.name), False


def json_lines(text: str) -> list[tuple[int, dict[str, Any]]]:
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as exc:
            fields = {"__error__": f"not JSON ({exc.msg} at column {exc.colno})"}
        if not isinstance(fields, dict):
            fields = {"__error__": "a row is a JSON object, like {\"goal\": \"a fox in the snow\", \"scenes\": 3}"}
        rows.append((number, fields))
    return rows


def csv_rows(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text), restkey="__extra__")
    header = [h.strip() for h in reader.fieldnames or []]
    if "goal" not in header:
        raise InputError(f"{name}: a CSV batch needs a header row with a goal column (and any make options: "
                         f"scenes, aspect, …); its header is {', '.join(header) or 'empty'}")
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, Any]]] = []
    for record in reader:
        number = reader.line_num
        if record.get("__extra__"):
            rows.append((number, {"__error__": f"{len(header) + len(record['__extra__'])} cells for "
                                               f"{len(header)} columns"}))
            continue
        fields: dict[str, Any] = {}
        for key, value in record.items():
            value = (value or "").strip()
            if not value:
                continue  # an empty cell: the option's default
            fields[key] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()] if key == "sources" else value
        if fields:
            rows.append((number, fields))
    return rows


def check_rows(raw: list[tuple[int, dict[str, Any]]], *, taken: Callable[[str], bool],
               files: Callable[[str, str, str], str] | None = None, strict: bool = False) -> list[Row]:
    """Each row checked as `director make` checks its options; a bad one keeps its one-line reason.

    taken says whether a run id exists already; files turns a source or music file into what the lifecycle takes
    (over HTTP an upload id); strict takes JSON's types as they are ("3" is not 3), as the HTTP body does."""
    if len(raw) > MAX_ROWS:
        raise InputError(f"a batch is at most {MAX_ROWS} rows (this one has {len(raw)}): split it")
    rows: list[Row] = []
    seen: set[str] = set()
    for line, fields in raw:
        row = Row(line=line)
        try:
            if "__error__" in fields:
                raise InputError(fields["__error__"])
            try:  # JSON can carry what is no text at all (a lone surrogate): refused here, not when it is saved
                json.dumps(fields, ensure_ascii=False).encode("utf-8")
            except (UnicodeEncodeError, TypeError, ValueError):
                raise InputError("the row holds something that is not text (a lone UTF-16 surrogate?)") from None
            fields = dict(fields)
            goal = fields.pop("goal", None)
            row.goal = " ".join(goal.split())[:MAX_TEXT_CHARS] if isinstance(goal, str) else ""
            if goal is not None and not isinstance(goal, str):
                raise InputError(f"the goal must be text (got {type(goal).__name__})")
            if not isinstance(goal, str) or not goal.strip():
                raise InputError("no goal: every row needs one")
            if len(goal) > MAX_TEXT_CHARS:
                raise InputError(f"the goal is {len(goal)} characters long; keep it to {MAX_TEXT_CHARS}")
            if isinstance(fields.get("sources"), str):
                fields["sources"] = [fields["sources"]]
            opts = MakeOptions.check(fields, strict=strict)
            opts.mode_check("trailer" if opts.sources else "story")
            options = opts.given()
            if files is None:  # paths on this machine: a missing one is named now, not when its row's turn comes
                for i, source in enumerate(options.get("sources") or []):
                    if not Path(source).expanduser().is_file():
                        raise InputError(f"no video {source!r} (sources[{i}])")
            else:
                from director.uploads import with_files

                options = with_files(options, files)
            run_id = options.pop("run_id", None)
            if run_id is not None and (run_id in seen or taken(run_id)):
                raise InputError(f"run id {run_id!r} is taken: by another row or an earlier run")
            row.options, row.run_id = options, run_id
            if run_id:
                seen.add(run_id)
        except InputError as exc:
            row.error = str(exc)
        rows.append(row)
    return rows


class Batches:
    """Plans, runs, resumes and describes batches in one workspace, over a Director."""

    def __init__(self, director: Any) -> None:
        self.director = director
        self.root = director.workspace.root / "batches"
        self._lock = threading.Lock()
        self._seq: dict[str, int] = {}
        self.active: Any = None
        """The lifecycle driving the batch's runs now (stop() stops them)."""
        self._lengths: dict[tuple[str, int, int], float | None] = {}
        """A final cut's length by (path, mtime, size): the summary is written again as every row ends."""

    # -- where a batch lives ------------------------------------------------------------------------------------
    def folder(self, batch_id: str) -> Path:
        if not BATCH_ID.fullmatch(batch_id):
            raise InputError(f"batch id {batch_id[:60]!r} must be 1-48 letters, digits, '.', '_' or '-' (starting with "
                             f"a letter or digit)")
        return self.root / batch_id

    def load(self, batch_id: str) -> Batch:
        path = self.folder(batch_id) / "batch.json"
        if not path.is_file():
            raise InputError(f"no batch {batch_id!r} in this workspace (see director batch --list)")
        return Batch.model_validate_json(path.read_text(encoding="utf-8"))

    def save(self, batch: Batch) -> None:
        folder = self.folder(batch.id)
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "batch.json", batch.model_dump_json(indent=2) + "\n")

    def all(self) -> list[Batch]:
        if not self.root.is_dir():
            return []
        found = [self.load(p.name) for p in self.root.iterdir() if (p / "batch.json").is_file() and
                 BATCH_ID.fullmatch(p.name)]
        return sorted(found, key=lambda b: b.created, reverse=True)

    # -- making one ---------------------------------------------------------------------------------------------
    def plan(self, raw: list[tuple[int, dict[str, Any]]], *, source: str, concurrency: int = 2,
             budget: float | None = None, batch_id: str | None = None,
             files: Callable[[str, str, str], str] | None = None, strict: bool = False, dry: bool = False) -> Batch:
        """A batch from rows, checked and saved; nothing runs yet. InputError when no row can run. dry checks
        everything a real one does and saves nothing (director batch --check)."""
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise InputError(f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY} (got {concurrency})")
        if budget is not None:
            MakeOptions.check({"budget": budget})
        batch_id = batch_id or new_batch_id()
        folder = self.folder(batch_id)
        if folder.exists():
            raise RunStateError(f"batch {batch_id!r} exists already: resume it with director batch --resume {batch_id}")
        catalog = self._catalog()
        rows = check_rows(raw, taken=lambda rid: catalog is not None and catalog.get_run(rid) is not None,
                          files=files, strict=strict)
        if not rows:
            raise InputError("the batch has no rows")
        if not any(r.error is None for r in rows) and not dry:
            raise InputError(f"no row of the batch can run: line {rows[0].line}: {rows[0].error}")
        for row in rows:
            if row.error is None and row.run_id is None:
                row.run_id = f"{batch_id}-{row.line:03d}"
        batch = Batch(id=batch_id, created=time.strftime("%Y-%m-%dT%H:%M:%S"), source=source,
                      concurrency=concurrency, budget_usd=budget, rows=rows)
        if dry:
            return batch
        try:
            folder.mkdir(parents=True)  # the claim on the id: of two batches asking for it at once, one gets it
        except FileExistsError:
            raise RunStateError(f"batch {batch_id!r} exists already: resume it with director batch --resume "
                                f"{batch_id}") from None
        self.save(batch)
        for row in batch.bad:
            self._event(batch.id, {"type": "row_refused", "line": row.line, "error": row.error})
        return batch

    # -- running one --------------------------------------------------------------------------------------------
    def run(self, batch: Batch, *, on_event: OnBatchEvent | None = None, budget: float | None = None,
            stop: threading.Event | None = None) -> list[dict[str, Any]]:
        """Run (or go on with) every good row whose run is not resting, at most `concurrency` at once, under the
        batch's budget (a new `budget` replaces it, for a resume); the summary rows, also written to disk."""
        from director.api import Director
        from director.limits import BudgetGuard

        if budget is not None:
            MakeOptions.check({"budget": budget})
            batch = batch.model_copy(update={"budget_usd": budget})
            self.save(batch)
        pool = ThreadPoolExecutor(max_workers=batch.concurrency, thread_name_prefix=f"director-{batch.id}")
        worker = Director(self.director.workspace.root, settings=self.director.settings,
                          backend=self.director.lifecycle.requested_backend)
        lifecycle = worker.lifecycle
        catalog = self._catalog()
        spent = sum(catalog.run_spend(r.run_id) for r in batch.good if r.run_id and catalog.get_run(r.run_id)) \
            if catalog is not None else 0.0
        if batch.budget_usd is not None:
            lifecycle.pool = BudgetGuard(batch.budget_usd, spent, name="batch budget")
        self.active = lifecycle
        self.write_summary(batch)  # there from the start: a kill at any moment leaves one
        emit = self._emitter(batch.id, on_event)
        emit({"type": "batch_started", "batch_id": batch.id, "rows": len(batch.rows), "good": len(batch.good),
              "concurrency": batch.concurrency, "budget_usd": batch.budget_usd, "spent_usd": round(spent, 4)})

        def one(row: Row) -> None:
            if stop is not None and stop.is_set():
                return
            assert row.run_id is not None
            status = self._status(row.run_id, catalog)
            if status in RESTING:
                emit({"type": "row_finished", "line": row.line, "run_id": row.run_id, "status": status, "kept": True})
                return
            emit({"type": "row_started", "line": row.line, "run_id": row.run_id, "goal": row.goal,
                  "resumed": status is not None})

            def forward(event: dict[str, Any]) -> None:
                if event.get("type") in ("tool_finished", "tool_failed", "warning", "interrupt"):
                    emit({"type": "row_progress", "line": row.line, "run_id": row.run_id,
                          "event": {k: v for k, v in event.items() if k in ("type", "label", "error", "message",
                                                                            "cost_usd", "quote_usd")}})
            error = None
            try:
                if status is None:
                    options = dict(row.options)
                    if batch.budget_usd is not None and "budget" not in options:
                        options["budget"] = batch.budget_usd  # the batch's own: no per-run default cap to stop at
                    lifecycle.make(row.goal, run_id=row.run_id, background=False, on_event=forward, **options)
                else:  # a raised batch budget is the row's own too, unless the row named one
                    again = batch.budget_usd if "budget" not in row.options else None
                    lifecycle.resume(row.run_id, budget=again, background=False, on_event=forward)
            except DirectorError as exc:
                error = str(exc)
            except Exception as exc:  # one row's bug is its own: the rest of the batch goes on
                log.exception("batch %s: line %s failed", batch.id, row.line)
                error = f"{type(exc).__name__}: {exc}"
            final = self._status(row.run_id, catalog)
            self.write_summary(batch)  # before the event: whoever hears a row end finds it in the summary
            emit({"type": "row_finished", "line": row.line, "run_id": row.run_id, "status": final or "failed",
                  "cost_usd": round(catalog.run_spend(row.run_id), 4) if catalog and final else 0.0, "error": error})

        try:
            futures = [pool.submit(one, row) for row in batch.good]
            for future in as_completed(futures):
                future.result()
        except BaseException:  # Ctrl-C or SIGTERM: the runs in flight stop at once, resumable, and nothing waits
            stop = stop or threading.Event()
            stop.set()
            self.stop()
            pool.shutdown(wait=False, cancel_futures=True)
            self.write_summary(batch)
            raise
        pool.shutdown(wait=True)
        summary = self.write_summary(batch)
        emit({"type": "batch_finished", "batch_id": batch.id,
              "statuses": {s: sum(1 for r in summary if r["status"] == s) for s in {r["status"] for r in summary}},
              "cost_usd": round(sum(r["cost_usd"] or 0 for r in summary), 4)})
        return summary

    def stop(self, *, grace: float = 1.0) -> list[str]:
        """Stop the runs in flight (Ctrl-C, SIGTERM, a server stopping): each is marked interrupted and keeps its
        last checkpoint."""
        lifecycle = self.active
        if lifecycle is None:
            return []
        why = "the batch was stopped; director batch --resume goes on with it"
        return [run.id for run in lifecycle.stop_all(reason=why, grace=grace, kill=True)]

    # -- what it made -------------------------------------------------------------------------------------------
    def summary(self, batch: Batch) -> list[dict[str, Any]]:
        """A row per line of the file: its run's status, length, cost and final path (refused rows say why)."""
        catalog = self._catalog()
        rows = []
        for row in batch.rows:
            record = catalog.get_run(row.run_id) if catalog is not None and row.run_id else None
            status = self._status(row.run_id, catalog) if record is not None else None
            final = Path(record.final_path) if record is not None and record.final_path else None
            seconds = self._length(final) if status == "done" and final is not None else None
            rows.append({
                "line": row.line, "run_id": row.run_id if row.error is None else None, "goal": row.goal,
                "status": "refused" if row.error else status or "not started",
                "seconds": seconds, "cost_usd": round(catalog.run_spend(row.run_id), 4)
                if record is not None and catalog is not None and row.run_id else 0.0,
                "final": str(final) if status == "done" and final else None,
                "error": row.error or (record.error if record is not None and status != "done" else None),
            })
        return rows

    def write_summary(self, batch: Batch) -> list[dict[str, Any]]:
        with self._lock:
            rows = self.summary(batch)
            folder = self.folder(batch.id)
            write_atomic(folder / "summary.json", json.dumps({"batch_id": batch.id, "budget_usd": batch.budget_usd,
                                                              "rows": rows}, indent=2, ensure_ascii=False) + "\n")
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=SUMMARY_FIELDS)
            writer.writeheader()
            writer.writerows(rows)
            write_atomic(folder / "summary.csv", out.getvalue())
            return rows

    def events(self, batch_id: str, *, after: int = 0) -> list[dict[str, Any]]:
        path = self.folder(batch_id) / "events.jsonl"
        if not path.is_file():
            return []
        events = []
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut off by a kill
                if event.get("seq", 0) > after:
                    events.append(event)
        return events

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _catalog(self) -> Any:
        from director.store import Catalog

        try:
            return Catalog.open(self.director.workspace, create=True)
        except DirectorError:
            return None

    def _length(self, final: Path) -> float | None:
        """The cut's length in seconds, probed once per version of the file; None when it is missing or damaged
        (doctor says more)."""
        from director.media import media_duration

        try:
            stat = final.stat()
        except OSError:
            return None
        key = (str(final), stat.st_mtime_ns, stat.st_size)
        if key not in self._lengths:
            try:
                self._lengths[key] = round(media_duration(final), 2)
            except Exception:  # noqa: BLE001 - a damaged file reads as no length
                self._lengths[key] = None
        return self._lengths[key]

    def _status(self, run_id: str | None, catalog: Any) -> str | None:
        """The run's status as a reader should take it (a run left running by a dead process is interrupted), from
        the catalog the caller holds: a summary asks for every row's."""
        if run_id is None:
            return None
        row = catalog.get_run(run_id) if catalog is not None else None
        if row is None:
            return None
        from director.lease import effective_status

        return effective_status(row, catalog)

    def _event(self, batch_id: str, event: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            path = self.folder(batch_id) / "events.jsonl"
            if batch_id not in self._seq:  # a resume numbers on from the events a killed process left
                self._seq[batch_id] = sum(1 for _ in path.open(encoding="utf-8")) if path.is_file() else 0
            self._seq[batch_id] += 1
            event = {"seq": self._seq[batch_id], "batch_id": batch_id, "at": round(time.time(), 3), **event}
            with path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(event, ensure_ascii=False, default=str) + "\n")
            return event

    def _emitter(self, batch_id: str, on_event: OnBatchEvent | None) -> OnBatchEvent:
        def emit(event: dict[str, Any]) -> None:
            recorded = self._event(batch_id, event)
            if on_event is not None:
                on_event(recorded)

        return emit
