"""Shared asset storage behind DIRECTOR_ASSETS_URL: a file:// folder on a shared volume, or
s3://bucket/prefix on any S3-compatible store, through obstore.

obstore (Development Seed; Rust's object_store, as used by Apache Arrow) rather than fsspec's
s3fs: it is one wheel with no Python dependencies (s3fs pins aiobotocore, which pins botocore,
and fights boto3 in the same venv), it is typed, it streams multipart uploads and ranged
reads, and the same API covers a local folder (LocalStore), S3, GCS and Azure. Credentials and
endpoints come from the usual AWS_* variables, never from the URL.

The store is content-addressed: an object's key is `<sha256[:2]>/<sha256><ext>`, so an
upload is idempotent and two machines writing the same bytes write the same object. The
workspace's assets/ folder is then a bounded, least-recently-used read cache of the store:
ffmpeg reads local files, and a machine downloads only the assets it needs, checking each
against its name before it is used.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from director.errors import ConfigError, StorageError

if TYPE_CHECKING:  # obstore declares ClientConfig and RetryConfig, TypedDicts, for type checkers only
    from obstore.store import ClientConfig, RetryConfig

log = logging.getLogger(__name__)

CHUNK = 8 << 20
GRACE_S = 600.0
"""A cached file used within this long is never evicted: a render may be about to open it."""


def _open_store(url: str, *, probe: bool = False) -> Any:
    """The store at url; a probe's answers within seconds, with one retry (a health check's, which a load
    balancer gives up on after a few seconds), where the runs' wait out a store's blips."""
    try:
        import obstore  # noqa: F401
        from obstore.store import LocalStore, from_url
    except ImportError:
        raise ConfigError("DIRECTOR_ASSETS_URL needs the cluster extra: pip install 'director-video[cluster]'") from None
    if url.startswith("file://"):
        root = Path(url.removeprefix("file://")).expanduser()
        if not root.is_absolute():
            raise ConfigError(f"DIRECTOR_ASSETS_URL {url!r} must name an absolute folder (file:///shared/assets)")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"cannot use {root} for assets: {exc.strerror or exc}") from None
        return LocalStore(str(root))
    from datetime import timedelta

    # Client options given here replace those read from the environment, so AWS_ALLOW_HTTP (an
    # S3-compatible server on plain HTTP, such as a local MinIO) is carried over by hand.
    options: ClientConfig = {"timeout": timedelta(seconds=5 if probe else 120),
                             "connect_timeout": timedelta(seconds=2 if probe else 10)}
    if os.environ.get("AWS_ALLOW_HTTP", "").lower() in ("1", "true", "yes"):
        options["allow_http"] = True
    retries: RetryConfig | None = {"max_retries": 1, "retry_timeout": timedelta(seconds=3)} if probe else None
    try:
        return from_url(url, client_options=options, retry_config=retries)
    except Exception as exc:  # obstore raises its own error types for a bad URL or configuration
        raise ConfigError(f"DIRECTOR_ASSETS_URL {url.split('?')[0]!r} cannot be used: "
                          f"{str(exc).splitlines()[0]}") from None


def probe_store(url: str) -> None:
    """The store at url answers and lets us in, within seconds: a lookup of a name nobody uses. StorageError
    (or ConfigError) says why not."""
    import obstore

    store = _open_store(url, probe=True)
    try:
        obstore.head(store, "00/health-probe")
    except FileNotFoundError:
        return
    except Exception as exc:
        raise StorageError(f"cannot reach the asset store at {url.split('?')[0]}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    """What a store's error says, in one line: obstore's run to many, with the request and its retries."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


class SharedAssets:
    """The shared store, plus the local cache in front of it (the workspace's assets/ folder)."""

    def __init__(self, url: str, cache_dir: Path, tmp_dir: Path, cache_bytes: int) -> None:
        self.url = url
        self.store = _open_store(url)
        self.cache_dir = cache_dir
        self.tmp_dir = tmp_dir
        self.cache_bytes = cache_bytes
        self._lock = threading.Lock()
        self.downloads = 0
        self.uploads = 0

    @staticmethod
    def key(rel: str) -> str:
        """assets/ab/<sha>.png -> ab/<sha>.png"""
        return rel.removeprefix("assets/")

    def _fail(self, what: str, rel: str, exc: BaseException) -> StorageError:
        return StorageError(f"{what} {self.key(rel)} at {self.url}: {_first_line(exc)}")

    def size(self, rel: str) -> int | None:
        """The object's size, or None when the store does not have it."""
        import obstore

        try:
            return int(obstore.head(self.store, self.key(rel))["size"])
        except FileNotFoundError:
            return None
        except Exception as exc:
            raise self._fail("cannot look up", rel, exc) from None

    def upload(self, local: Path, rel: str) -> None:
        """Put a cached file in the store, unless it is there already (the same name is the same bytes)."""
        import obstore

        if self.size(rel) == local.stat().st_size:
            return
        try:
            obstore.put(self.store, self.key(rel), local, chunk_size=CHUNK)
        except Exception as exc:
            raise self._fail("cannot upload", rel, exc) from None
        self.uploads += 1

    def download(self, rel: str, dest: Path, sha: str) -> None:
        """Fetch an object into the cache, whole and checked against its name, or not at all."""
        import obstore

        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.tmp_dir / f"fetch-{uuid.uuid4().hex}{dest.suffix}"
        digest = hashlib.sha256()
        try:
            try:
                result = obstore.get(self.store, self.key(rel))
                with open(tmp, "wb") as out:
                    for chunk in result.stream(min_chunk_size=CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
            except FileNotFoundError:
                raise StorageError(f"asset {self.key(rel)} is missing from {self.url}; the call that made it runs "
                                   f"again when it is next needed") from None
            except OSError:
                raise  # the local disk: a full disk is said as such by the caller
            except Exception as exc:
                raise self._fail("cannot download", rel, exc) from None
            if digest.hexdigest() != sha:
                raise StorageError(f"asset {self.key(rel)} in {self.url} is damaged: its bytes do not hash to its "
                                   f"name")
            os.replace(tmp, dest)
            self.downloads += 1
        finally:
            tmp.unlink(missing_ok=True)

    def touch(self, path: Path) -> None:
        """Mark a cached file used now (its access time; its mtime stays, as the asset checks read it)."""
        try:
            st = path.stat()
            os.utime(path, ns=(time.time_ns(), st.st_mtime_ns))
        except OSError:
            pass

    def evict(self, keep: Path | None = None) -> int:
        """Drop least-recently-used cached files until the cache fits its size; bytes freed.

        Every cached file is also in the store, so dropping one loses nothing; one used in the
        last GRACE_S seconds stays even past the size, as a render may be about to open it."""
        with self._lock:
            files = []
            total = 0
            for entry in self.cache_dir.glob("*/*"):
                try:
                    st = entry.stat()
                except OSError:
                    continue
                files.append((st.st_atime, st.st_size, entry))
                total += st.st_size
            if total <= self.cache_bytes:
                return 0
            freed = 0
            cutoff = time.time() - GRACE_S
            for atime, size, entry in sorted(files):
                if total - freed <= self.cache_bytes or atime > cutoff:
                    break
                if keep is not None and entry == keep:
                    continue
                try:
                    entry.unlink()
                    freed += size
                except OSError:
                    pass
            if freed:
                log.info("asset cache: dropped %d bytes of least recently used files", freed)
            return freed
