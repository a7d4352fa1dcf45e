"""Joining the pieces of a cut (scenes and cards), with transitions that re-encode only what they touch.

Every clip Director encodes has a keyframe every KEY_SECONDS (media.x264), and x264's GOPs are
closed, so any stretch from one keyframe to the next decodes on its own. A transition of D frames
between pieces A and B needs A's last D frames and B's first D. The join therefore:

- copies each piece's packets from its first keyframe at or after its incoming overlap to its last
  keyframe at or before its outgoing overlap (its *body*: no decode, no encode, exact to the frame);
- encodes only the stretch between two bodies (a *boundary*): A's tail from its keyframe, the
  blend, and B's head up to its keyframe. A piece too short to hold a body is encoded whole inside
  its boundary.

Boundaries are cached by the names of the files they read (content hashes) and the cuts, so
changing one scene re-encodes that scene's segment and at most its two boundaries. A cut
(`--transition cut`) has no boundaries: every piece is copied whole, as before.

The pieces overlap by D frames at each transition, so the cut is shorter by D frames per
transition; the sound and subtitle timing follow (tools/assemble_video.py places every scene's
sound at its overlapped start).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from director.errors import MediaError

if TYPE_CHECKING:
    from director.store import Workspace

XFADE = {"crossfade": "fade", "fade": "fadeblack", "slide": "slideleft"}
"""ffmpeg xfade's name for each transition: a dissolve, a dip through black, a push to the left."""
TRANSITION_VERSION = "1"  # bump when a boundary's encode changes


@dataclass(frozen=True)
class Piece:
    """One stretch of the cut in the cut's format: a scene's segment or a card."""

    path: Path
    frames: int


@dataclass(frozen=True)
class Part:
    """Frames [start, end) of a file, in the order the cut plays them."""

    path: Path
    start: int
    end: int


def overlap_frames(seconds: float, fps: int, pieces: list[int]) -> int:
    """The transition's length in whole frames: even (the cut point sits mid-blend), at least 2,
    and at most half the shortest piece (a piece is never blended at both ends at once)."""
    if len(pieces) < 2:
        return 0
    wanted = 2 * max(1, round(seconds * fps / 2))
    return max(0, min(wanted, (min(pieces) // 2) // 2 * 2))


@lru_cache(maxsize=256)
def _frames(path: Path, size: int, mtime: int, fps: int) -> tuple[int, tuple[int, ...]]:
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            if tb is None:  # a demuxed stream has one; PyAV types it optional
                raise MediaError(f"cannot read the frames of {path.name}: its video stream has no time base")
            packets = [(round(p.pts * tb * fps), p.is_keyframe) for p in container.demux(stream) if p.pts is not None]
    except (av.error.FFmpegError, IndexError) as exc:
        raise MediaError(f"cannot read the frames of {path.name}: {exc}") from None
    return len(packets), tuple(sorted(n for n, key in packets if key))


def frames_of(path: Path, fps: int) -> tuple[int, tuple[int, ...]]:
    """A clip's frame count and its keyframes' frame numbers (read from its packets; nothing is decoded)."""
    st = path.stat()
    return _frames(path, st.st_size, st.st_mtime_ns, fps)


def plan_join(pieces: list[Piece], overlap: int, fps: int) -> list[list[Part]]:
    """The cut as a list of steps: a one-part step is a body to copy; a longer one is a boundary
    to encode, its parts blended in turn with `overlap` frames each."""
    steps: list[list[Part]] = []
    chain: list[Part] = []
    last = len(pieces) - 1
    for i, pc in enumerate(pieces):
        cuts = [*frames_of(pc.path, fps)[1], pc.frames] if overlap else [0, pc.frames]
        need_in = overlap if i > 0 else 0
        need_out = overlap if i < last else 0
        head = cuts[bisect.bisect_left(cuts, need_in)]
        tail = cuts[bisect.bisect_right(cuts, pc.frames - need_out) - 1]
        if head < tail:
            if head > 0:
                chain.append(Part(pc.path, 0, head))
            if chain:
                steps.append(chain)
            steps.append([Part(pc.path, head, tail)])
            chain = [Part(pc.path, tail, pc.frames)] if tail < pc.frames else []
        else:
            chain.append(Part(pc.path, 0, pc.frames))
    if chain:
        steps.append(chain)
    return steps


def boundary(parts: list[Part], overlap: int, kind: str, workspace: Workspace, *, size: tuple[int, int], fps: int,
             crf: int, preset: str, jobs: int) -> Part:
    """Two or more parts blended into one cached clip (the whole of it, as a Part)."""
    from director.media import render_slot, run_ffmpeg, x264

    frames = sum(p.end - p.start for p in parts) - overlap * (len(parts) - 1)
    key = {"v": TRANSITION_VERSION, "kind": kind, "overlap": overlap, "fps": fps, "size": list(size), "crf": crf,
           "preset": preset, "parts": [[p.path.name, p.start, p.end] for p in parts]}

    def make(tmp: Path) -> None:
        args: list[str] = []
        chains: list[str] = []
        for k, p in enumerate(parts):
            # One thread per decoder and for x264: a boundary is a second or so, and they run one per
            # core, so more threads would only add start-up (0.56 s against 0.69 s for two at once).
            args += ["-threads", "1"]
            if p.start:  # seek to the keyframe (decode from there); the half frame keeps the cut exact
                args += ["-ss", f"{(p.start - 0.5) / fps:.6f}"]
            args += ["-t", f"{(p.end - p.start + 0.5) / fps:.6f}", "-i", str(p.path)]
            chains.append(f"[{k}:v]trim=end_frame={p.end - p.start},settb=1/{fps},setpts=N,format=yuv420p[p{k}]")
        label, length = "p0", parts[0].end - parts[0].start
        for k in range(1, len(parts)):
            chains.append(f"[{label}][p{k}]xfade=transition={XFADE[kind]}:duration={overlap / fps:.6f}"
                          f":offset={(length - overlap) / fps:.6f}[x{k}]")
            label, length = f"x{k}", length + parts[k].end - parts[k].start - overlap
        with render_slot(jobs):
            run_ffmpeg([*args, "-filter_complex", ";".join(chains), "-map", f"[{label}]", "-frames:v", str(frames),
                        "-r", str(fps), "-an", *x264(crf, preset), "-threads", "1", str(tmp)],
                       what=f"blend a {kind} transition")

    return Part(workspace.cached("transitions", key, ".mp4", make), 0, frames)


def join(parts: list[Part], out: Path, fps: int) -> int:
    """Copy the parts' packets into one video-only MP4, frame-exact; returns the frame count.

    Each part starts on a keyframe and ends before one (or at its file's end), so its packets
    decode without anything outside it; timestamps are shifted onto one running clock."""
    import av

    total = 0
    try:
        with av.open(str(out), "w", format="mp4") as dest:
            stream = None
            last_dts: Fraction | None = None
            for part in parts:
                with av.open(str(part.path)) as src:
                    s = src.streams.video[0]
                    if stream is None:
                        stream = dest.add_stream_from_template(s)
                    tb = s.time_base
                    if tb is None:  # a demuxed stream has one; PyAV types it optional
                        raise MediaError(f"{part.path.name}: its video stream has no time base")
                    t0 = Fraction(part.start, fps)
                    shift = Fraction(total, fps) - t0
                    if part.start:
                        src.seek(round(t0 / tb), stream=s, backward=True, any_frame=False)
                    count = 0
                    for pkt in src.demux(s):
                        if pkt.pts is None or pkt.dts is None:
                            continue
                        n = round(pkt.pts * tb * fps)
                        if n < part.start:
                            continue
                        if n >= part.end and pkt.is_keyframe:
                            break
                        if n >= part.end:
                            raise MediaError(f"{part.path.name}: frame {n} after the cut at {part.end} is not a "
                                             "keyframe; the clip cannot be copied in parts")
                        pts, dts = pkt.pts * tb + shift, pkt.dts * tb + shift
                        if last_dts is not None and dts <= last_dts:
                            raise MediaError(f"{part.path.name} does not join on by copy (its decode times "
                                             "overlap the part before); re-encode it in the cut's format")
                        last_dts = dts
                        pkt.pts, pkt.dts = round(pts / tb), round(dts / tb)
                        pkt.stream = stream
                        dest.mux(pkt)
                        count += 1
                    if count != part.end - part.start:
                        raise MediaError(f"{part.path.name}: copied {count} frames of {part.start}-{part.end}")
                    total += count
    except av.error.FFmpegError as exc:
        raise MediaError(f"cannot join the cut's parts: {exc}") from None
    return total
