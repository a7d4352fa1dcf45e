"""Where the store's names are imported from: the workspace, the catalog and the asset store, re-exported.

<workspace>/
  director.db        catalog tables (runs, assets, tool_calls) + LangGraph checkpoints
  assets/ab/<sha256>.<ext>
  runs/<run_id>/     final.mp4, subtitles.srt, storyboard.html, manifest.json
  tmp/               half-written files; renamed into assets/ only when complete

The rooms, each importing only the ones above it:
  director.workspace  Workspace (folders, paths, the database's location, the cache), canonical_json,
                      and what a storage failure means (DATABASE_ERRORS, disk_full, readonly_problem,
                      storage_error, postgres_url, shown_url)
  director.schema     the sqlmodel rows (RunRow, AssetRow, CallRow), LeaseHolder, the numbered MIGRATIONS,
                      migrate() and the locks every process migrates under (MIGRATION_LOCK_KEY)
  director.catalog    Catalog over SQLite or Postgres (SQLITE_TIMEOUT_S, sqlite_pragmas)
  director.assets     AssetStore, the content-addressed files, with sha256_file and describe

Code imports from here (`from director.store import ...`), so the split stays an internal matter; a new
name belongs in its room and in this list.
"""

from __future__ import annotations

from director.assets import AssetStore, describe, sha256_file
from director.catalog import SQLITE_TIMEOUT_S, Catalog, sqlite_pragmas
from director.schema import (
    MIGRATION_LOCK_KEY,
    MIGRATIONS,
    AssetRow,
    CallRow,
    LeaseHolder,
    RunRow,
    m001_initial,
    m002_usage_and_budget,
    m003_asset_checks,
    m004_leases,
    m005_events,
    m006_run_host,
    m007_jobs,
    migrate,
    migration_lock,
    postgres_migration_lock,
    utcnow,
)
from director.workspace import (
    DATABASE_ERRORS,
    Workspace,
    canonical_json,
    disk_full,
    postgres_url,
    readonly_problem,
    shown_url,
    storage_error,
)

__all__ = [
    "DATABASE_ERRORS",
    "MIGRATIONS",
    "MIGRATION_LOCK_KEY",
    "SQLITE_TIMEOUT_S",
    "AssetRow",
    "AssetStore",
    "CallRow",
    "Catalog",
    "LeaseHolder",
    "RunRow",
    "Workspace",
    "canonical_json",
    "describe",
    "disk_full",
    "m001_initial",
    "m002_usage_and_budget",
    "m003_asset_checks",
    "m004_leases",
    "m005_events",
    "m006_run_host",
    "m007_jobs",
    "migrate",
    "migration_lock",
    "postgres_migration_lock",
    "postgres_url",
    "readonly_problem",
    "shown_url",
    "sha256_file",
    "sqlite_pragmas",
    "storage_error",
    "utcnow",
]
