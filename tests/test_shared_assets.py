"""Assets on shared storage (DIRECTOR_ASSETS_URL): a file:// folder and S3 (moto's server on loopback).

The store of record is shared and content-addressed; each machine's assets/ folder is a bounded
least-recently-used cache that fills on demand, and every download is checked against its name.
Two "machines" here are two workspaces (two cache folders) over one catalog and one store.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from director.config import load_settings
from director.errors import StorageError
from director.store import AssetStore, Catalog, Workspace
from tests.helpers import check_final, run_cli


def store_on(root: Path, *, cache_mb: int | None = None) -> AssetStore:
    settings = load_settings(**({"assets_cache_mb": cache_mb} if cache_mb else {}))
    workspace = Workspace.from_settings(root, settings)
    workspace.prepare()
    return AssetStore(workspace, Catalog.open(workspace, create=True))


def picture(store: AssetStore, shade: int, size: int = 64) -> object:
    import numpy as np
    from PIL import Image

    tmp = store.temp_path(".png")
    noise = np.random.default_rng(shade).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp)
    return store.put(tmp, "image")


def test_a_put_lands_in_the_shared_store_and_another_machine_fetches_it_checked(tmp_path, engine, assets_url):
    a = store_on(tmp_path / "a")
    ref = picture(a, 1)
    assert a.shared is not None and a.shared.size(ref.path) == ref.bytes
    b = store_on(tmp_path / "b")
    assert not b.workspace.abspath(ref.path).exists()  # nothing cached on b yet
    assert b.verify(ref)  # the store has it, whole-sized
    local = b.path(ref)
    assert local.read_bytes() == a.path(ref).read_bytes() and b.shared.downloads == 1
    assert b.path(ref) == local and b.shared.downloads == 1  # cached now: no second download
    # The same bytes put again anywhere are the same object: no second upload.
    again = picture(b, 1)
    assert again.sha256 == ref.sha256 and b.shared.uploads == 0


def test_a_damaged_or_missing_object_is_refused_not_used(tmp_path, engine, assets_url):
    import obstore

    a = store_on(tmp_path / "a")
    ref = picture(a, 2)
    c = store_on(tmp_path / "c")
    key = c.shared.key(ref.path)
    data = bytearray(a.path(ref).read_bytes())
    data[-20] ^= 0xFF  # same size, other bytes
    obstore.put(c.shared.store, key, bytes(data))
    with pytest.raises(StorageError, match="damaged"):
        c.path(ref)
    assert not c.workspace.abspath(ref.path).exists()  # nothing half-checked was left in the cache
    obstore.delete(c.shared.store, key)
    assert not c.verify(ref)  # a memo hit on it is not reused: the call runs again
    with pytest.raises(StorageError, match="missing from"):
        c.path(ref)


def test_the_cache_stays_within_its_size_and_drops_the_least_recently_used(tmp_path, engine, assets_url,
                                                                           monkeypatch):
    import os
    import time

    monkeypatch.setattr("director.objects.GRACE_S", 0.0)
    a = store_on(tmp_path / "a")
    refs = [picture(a, i, size=400) for i in range(8)]  # about 480 KB each
    b = store_on(tmp_path / "b", cache_mb=16)
    b.shared.cache_bytes = 2 * refs[0].bytes + 1000  # room for two
    for i, ref in enumerate(refs):
        path = b.path(ref)
        os.utime(path, ns=(time.time_ns() - (len(refs) - i) * 10**9, path.stat().st_mtime_ns))
    cached = sorted(p.name for p in b.workspace.assets_dir.glob("*/*"))
    assert len(cached) <= 2 and f"{refs[-1].sha256}.png" in cached
    assert sum(p.stat().st_size for p in b.workspace.assets_dir.glob("*/*")) <= b.shared.cache_bytes
    assert b.path(refs[0]).is_file()  # dropped from the cache, fetched again, whole
    assert b.shared.downloads == len(refs) + 1


def test_a_run_made_on_one_machine_is_revised_on_another(tmp_path, capsys, engine, assets_url, fast):
    a, b = tmp_path / "a", tmp_path / "b"
    made = run_cli(capsys, "make", "a 2-scene story about a fox and an owl", "--backend", "local", "--motion",
                   "still", "--workspace", str(a), "--run-id", "fox")
    assert made.code == 0, made.err
    if engine == "sqlite":  # one catalog for both machines: on SQLite that is one file they share
        import os

        os.environ["DIRECTOR_DATABASE_URL"] = f"sqlite:///{a / 'director.db'}"
    try:
        said = run_cli(capsys, "say", "fox", "make scene 2 at night", "--workspace", str(b))
        assert said.code == 0, said.err
        check_final(b / "runs" / "fox" / "final.mp4", cues=2)
        manifest = json.loads((b / "runs" / "fox" / "manifest.json").read_text())
        assert "night" in manifest["scenes"][1]["image_prompt"].lower()
        # b fetched only what the change needed; a has every asset of the first cut.
        on_a = {p.name for p in (a / "assets").glob("*/*")}
        on_b = {p.name for p in (b / "assets").glob("*/*")}
        assert len(on_b - on_a) >= 2  # the new picture and the new cut were made on b
        assert len(on_a - on_b) >= 1  # the old cut (and scene 2's old picture) never came to b
        # b's contact sheet shows every scene: what it names was fetched, not left a broken link.
        import re

        sheet = (b / "runs" / "fox" / "storyboard.html").read_text()
        linked = re.findall(r'(?:src|poster)="([^"]+)"', sheet)
        assert len(linked) >= 4 and all((b / "runs" / "fox" / link).is_file() for link in linked), linked
        doctor = run_cli(capsys, "doctor", "--workspace", str(b))
        assert doctor.code == 0, doctor.out + doctor.err
    finally:
        if engine == "sqlite":
            os.environ.pop("DIRECTOR_DATABASE_URL", None)
