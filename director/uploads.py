"""Files that come to the HTTP face as uploads, never as server paths.

A browser user has the video on their own computer: `POST /api/uploads` streams it into the workspace
(`uploads/<sha256>.<ext>`, content-addressed, so the same file twice is one file), within a size cap, and
keeps it only if it decodes as a video (a trailer's source) or as audio (a music bed). Requests then name
the upload by its id. A server path is taken only under an allow-listed media root (DIRECTOR_MEDIA_ROOT,
off by default), and every path that is not allowed gets the same one line, whether or not anything is
there, so the answers tell nothing about the server's files.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from director.errors import InputError

UPLOAD_ID = re.compile(r"[0-9a-f]{64}")
SUFFIXES = {"video": (".mkv", ".mp4", ".mov", ".webm", ".avi", ".m4v"),
            "audio": (".mka", ".mp3", ".wav", ".m4a", ".ogg", ".opus", ".flac", ".aac")}
"""The suffixes an upload is kept under, by what it decoded as: the name's own when it agrees, else the first
(a neutral container: ffmpeg reads the content, not the name), so the suffix always tells the kind."""
NOT_ALLOWED = ("is not an upload id (POST the file to /api/uploads first), and this server takes no server "
               "paths{where}")


class TooLarge(InputError):
    """An upload over the cap (HTTP 413)."""


def too_large(limit: int) -> TooLarge:
    return TooLarge(f"the upload is over the {limit // (1024 * 1024)} MB cap (DIRECTOR_UPLOAD_MB)")


def folder(workspace_root: Path) -> Path:
    return workspace_root / "uploads"


def find(workspace_root: Path, upload_id: str) -> Path | None:
    """The file of an upload id, if this server has it."""
    if not UPLOAD_ID.fullmatch(upload_id):
        return None
    found = sorted(folder(workspace_root).glob(f"{upload_id}.*"))
    return found[0] if found else None


def media_kind(path: Path) -> tuple[str, float]:
    """("video" | "audio", seconds) of a file that decodes; InputError (one line) otherwise."""
    import av

    try:
        with av.open(str(path)) as container:
            kind = "video" if container.streams.video else "audio" if container.streams.audio else ""
            if not kind:
                raise InputError("the upload holds no video or audio stream")
            stream = container.streams.video[0] if kind == "video" else container.streams.audio[0]
            decoded = 0
            for _frame in container.decode(stream):  # a few frames decode: not just a header
                decoded += 1
                if decoded >= 3:
                    break
            if not decoded:
                raise InputError("the upload's frames do not decode")
            seconds = float(container.duration or 0) / 1e6
    except (av.error.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise InputError(f"the upload is not a video or audio file ffmpeg can read ({type(exc).__name__})") from None
    return kind, seconds


async def receive(chunks: Any, workspace_root: Path, *, name: str, limit: int) -> dict[str, Any]:
    """Stream an upload to disk, hashing as it comes; keep it (content-addressed) once it decodes."""
    import asyncio

    target = folder(workspace_root)
    target.mkdir(parents=True, exist_ok=True)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES["video"] + SUFFIXES["audio"]:
        suffix = ".media"
    tmp = target / f".part-{os.getpid()}-{os.urandom(6).hex()}{suffix}"
    digest = hashlib.sha256()
    size = 0
    try:
        with tmp.open("wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise InputError("the upload is empty")
        kind, seconds = await asyncio.to_thread(media_kind, tmp)
        upload_id = digest.hexdigest()
        if suffix not in SUFFIXES[kind]:  # a WAV called tone.mp4 is kept as audio, whatever it was called
            suffix = SUFFIXES[kind][0]
        final = target / f"{upload_id}{suffix}"
        if find(workspace_root, upload_id) is None:
            os.replace(tmp, final)
            title = Path(name).stem.replace("_", " ").strip()
            if kind == "video" and title and title != "upload":  # the trailer's title, as a sidecar would give it
                import json

                final.with_name(final.name + ".json").write_text(json.dumps({"title": title[:200]}), encoding="utf-8")
        return {"id": upload_id, "kind": kind, "bytes": size, "seconds": round(seconds, 3),
                "name": Path(name).name[:200]}
    finally:
        tmp.unlink(missing_ok=True)


def resolve(value: str, workspace_root: Path, *, media_root: Path | None, kind: str, field: str) -> str:
    """The server file a request's `value` names: an upload id of the right kind, or a path under the media
    root. Anything else is the same InputError, so nothing is learnt about other paths."""
    found = find(workspace_root, value.strip().lower())
    if found is not None:
        if found.suffix in SUFFIXES["audio" if kind == "video" else "video"]:
            raise InputError(f"{field}: the upload {value[:12]}… is not {'a video' if kind == 'video' else 'audio'}")
        return str(found)
    where = " outside DIRECTOR_MEDIA_ROOT" if media_root is not None else " (DIRECTOR_MEDIA_ROOT is not set)"
    refused = InputError(f"{field} " + NOT_ALLOWED.format(where=where))
    if media_root is None or value.startswith("~") or "\x00" in value:
        raise refused
    try:
        path = Path(value)
        path = path if path.is_absolute() else media_root / path
        real = path.resolve(strict=False)
        root = media_root.resolve(strict=False)
    except (OSError, ValueError, RuntimeError):
        raise refused from None
    if not real.is_relative_to(root):
        raise refused
    return str(real)


def with_files(options: dict[str, Any], resolve_one: Callable[[str, str, str], str]) -> dict[str, Any]:
    """The make options with the files they name (a trailer's sources, a music file rather than a mood) put
    through `resolve_one(value, kind, field)`: over HTTP and MCP, upload ids, never any path the server can read."""
    from director.backends.local.music import MOODS

    options = dict(options)
    if options.get("sources"):
        options["sources"] = [resolve_one(s, "video", f"sources[{i}]") for i, s in enumerate(options["sources"])]
    music = options.get("music")
    if music and music not in ("auto", "none", *MOODS):
        options["music"] = resolve_one(music, "audio", "music")
    return options
