"""The content-addressed asset store: files named by the sha256 of their bytes, catalogued as they arrive.

Writers fill a temp file in tmp/; AssetStore.put() renames it into assets/ab/<sha256>.<ext> and catalogs it,
so an asset is whole or absent. With a shared store of record (director.objects) assets/ is a local cache.
director.store re-exports every name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from director.catalog import Catalog
from director.state import AssetKind, AssetRef
from director.workspace import Workspace

# The name these messages always carried, so a log filter or level set on director.store still reaches them.
log = logging.getLogger("director.store")

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
