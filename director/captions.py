"""Burned-in captions: one short phrase at a time, timed word by word from the narration.

Phones play muted with captions off, so `--captions burn` (or `both`) draws them into the
picture: large white text with a dark outline, at most two lines, bottom-centred above the
9:16 safe area, in Source Sans Pro Bold (SIL OFL 1.1, shipped in the `font-source-sans-pro`
wheel; never a system font). `--caption-style karaoke` lights up each word as it is said.

Word times come from faster-whisper's word timestamps on the scene's narration (the model
Director already ships), mapped onto the narration's own words; cached by the audio's hash.
Each burned clip is its own cached segment, keyed by the clip and the caption document, so a
changed line re-encodes only its scene.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from director.store import Workspace

CAPTION_VERSION = "1"
MAX_PHRASE_CHARS = 30
"""One phrase is at most this many characters: two lines at the 9:16 size, one at 16:9."""
Word = tuple[float, float, str]


def font_file() -> Path:
    from font_source_sans_pro import font_directory

    return Path(font_directory) / "SourceSansPro-Bold.ttf"


def narration_words(audio: Path, text: str, workspace: Workspace, sha: str,
                    window: tuple[float, float] | None = None) -> list[Word]:
    """(start, end, word) for each word of `text`, in seconds from the start of `audio`; with `window`, the words
    said in that stretch of it (one turn of a scene's speech)."""
    from director.backends.local.vision import whisper_words

    ours = text.split()

    def make(tmp: Path) -> None:
        tmp.write_text(json.dumps(whisper_words(audio)), encoding="utf-8")

    heard = json.loads(workspace.cached("words", {"v": CAPTION_VERSION, "audio": sha}, ".json", make).read_text())
    if not ours:
        return []
    if window is not None:
        heard = [h for h in heard if h[0] >= window[0] - 0.1 and h[1] <= window[1] + 0.1]
    if not heard:  # nothing recognised: spread the words over the speech by their length
        from director.media import probe

        a, b = window or (0.0, probe(audio).duration or 1.0)
        return spread(ours, a, b - a)
    # Map our words onto the heard ones in order (counts may differ by a word or two).
    out = []
    for j, w in enumerate(ours):
        a = min(len(heard) - 1, j * len(heard) // len(ours))
        b = min(len(heard) - 1, max(a, ((j + 1) * len(heard) - 1) // len(ours)))
        out.append((float(heard[a][0]), float(heard[b][1]), w))
    return out


SENTENCE_END = re.compile(r"[.!?][\"'”’)]*$")
SLACK_CHARS = 8
"""How far past the limit a phrase may run to end with its sentence, rather than leave a word or two alone."""


def phrases(words: list[Word], limit: int = MAX_PHRASE_CHARS) -> list[list[Word]]:
    """Short phrases: break at every sentence end (a phrase never runs from one sentence into the next), at a
    comma, colon or semicolon once the phrase is a third of `limit`, and before a phrase passes `limit` characters,
    unless its sentence ends within a few characters more."""
    def chars(group: list[Word]) -> int:
        return len(" ".join(w for _, _, w in group))

    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        if current and chars([*current, word]) > limit:
            rest = next((k for k in range(i, len(words)) if SENTENCE_END.search(words[k][2])), len(words) - 1)
            if chars([*current, *words[i:rest + 1]]) > limit + SLACK_CHARS:
                groups.append(current)
                current = []
        current.append(word)
        if SENTENCE_END.search(word[2]) or (re.search(r"[;:,]$", word[2]) and chars(current) >= limit // 3):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def ass_time(seconds: float) -> str:
    cs = max(0, round(seconds * 100))
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h}:{m:02d}:{s:02d}.{cs:02d}"


def escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("{", "(").replace("}", ")").replace("\n", " ")


def ass_head(size: tuple[int, int], style: str) -> list[str]:
    """The lines of an ASS script before its events: the frame size and one style."""
    width, height = size
    return [
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}", "WrapStyle: 0",
        "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding",
        f"Style: {style}",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]


def spread(words: list[str], start: float, length: float) -> list[Word]:
    """`words` timed over [start, start + length], each taking time by its length."""
    weights = [len(w) + 1 for w in words]
    out, at = [], start
    for w, n in zip(words, weights):
        span = length * n / sum(weights)
        out.append((at, at + span, w))
        at += span
    return out


def cue_words(cues: list[tuple[float, float, str]], start: float, length: float) -> list[Word]:
    """The words of the subtitle cues inside [start, start + length], each cue's words spread over its time,
    in seconds from `start`: what a shot with its own sound (a transcript, no narration) says when."""
    words: list[Word] = []
    for a, b, text in cues:
        a, b = max(a, start) - start, min(b, start + length) - start
        if b - a > 0.05 and text.split():
            words += spread(text.split(), a, b - a)
    return words


SPEAKER_COLOURS = ("&H66CCFF", "&HFFCC66", "&H99FF99", "&HCC99FF", "&H66FFFF", "&HFF99CC")
"""Burned captions: a steady colour for each speaking character, by their place in the cast (ASS &HBBGGRR:
orange, sky blue, green, pink, yellow, violet); the narrator stays white."""


def ass_document(words: list[Word], *, offset: float, length: float, size: tuple[int, int], karaoke: bool,
                 turns: list[tuple[int, str | None]] | None = None) -> str:
    """An ASS script for one scene's clip: times from the clip's start (speech starts at `offset`). With `turns`
    ((how many of the words, colour) for each stretch of speech in order), a phrase never runs from one speaker
    into the next and each character's words are in their colour."""
    width, height = size
    font = max(28, round(min(width, height) * 0.075))
    margin_v = round(height * (0.16 if height > width else 0.08))  # above a phone's controls
    margin_h = round(width * 0.08)
    # Karaoke: words not yet said are white (secondary), said words turn yellow (primary).
    lines = ass_head(size, f"Caption,Source Sans Pro,{font},{'&H0000E5FF' if karaoke else '&H00FFFFFF'},&H00FFFFFF,"
                           f"&H00101010,&H80000000,-1,0,0,0,100,100,0,0,1,{max(2, font // 14)},{max(1, font // 28)},2,"
                           f"{margin_h},{margin_h},{margin_v},1")
    groups: list[list[Word]] = []
    colours: list[str | None] = []
    taken = 0
    for count, colour in turns or [(len(words), None)]:
        for group in phrases(words[taken:taken + count]):
            groups.append(group)
            colours.append(colour)
        taken += count
    for i, group in enumerate(groups):
        tint = f"{{\\{'2' if karaoke else '1'}c{colours[i]}&}}" if colours[i] else ""
        start = offset + group[0][0]
        end = offset + (groups[i + 1][0][0] if i + 1 < len(groups) else group[-1][1] + 0.3)
        end = min(end, length)
        if end - start < 0.05:
            continue
        if karaoke:
            parts, at = [], group[0][0]
            for s, e, w in group:
                lead = max(0, round((s - at) * 100))
                parts.append((f"{{\\k{lead}}}" if lead else "") + f"{{\\k{max(1, round((e - s) * 100))}}}{escape(w)}")
                at = e
            text = tint + " ".join(parts)
        else:
            text = tint + escape(" ".join(w for _, _, w in group))
        lines.append(f"Dialogue: 0,{ass_time(start)},{ass_time(end)},Caption,,0,0,0,,{text}")
    return "\n".join(lines) + "\n"


def burned(clip: Path, source: dict[str, Any], document: str, workspace: Workspace, *, crf: int, preset: str,
           jobs: int) -> Path:
    """The clip with its captions drawn in: a cached segment of its own. `source` says what the
    clip is (its hash, length, size, fps), so the key changes with the picture or the words."""
    import hashlib

    from director.media import render_slot, run_ffmpeg, x264

    font = font_file()
    key: dict[str, Any] = {"v": CAPTION_VERSION, "source": source, "font": font.name, "crf": crf, "preset": preset,
                           "ass": hashlib.sha256(document.encode()).hexdigest()}

    def make(tmp: Path) -> None:
        script = tmp.with_suffix(".ass")
        script.write_text(document, encoding="utf-8")
        try:
            with render_slot(jobs):
                run_ffmpeg(["-i", str(clip), "-vf", f"ass={filter_path(script)}:fontsdir={filter_path(font.parent)}",
                            "-an", *x264(crf, preset), str(tmp)], what=f"burn the captions into {clip.name}")
        finally:
            script.unlink(missing_ok=True)

    return workspace.cached("captions", key, ".mp4", make)


def filter_path(path: Path) -> str:
    """A path as the value of a filter option inside a -vf graph, escaped at both levels ffmpeg
    parses (the option value, then the graph), so spaces, commas, colons and quotes survive."""
    value = str(path)
    for ch in ("\\", "'", ":"):
        value = value.replace(ch, "\\" + ch)
    for ch in ("\\", "'", "[", "]", ",", ";"):
        value = value.replace(ch, "\\" + ch)
    return value


CARD_SECONDS = 2.5
"""How long a title or end card holds."""


def card_document(text: str, *, size: tuple[int, int], length: float) -> str:
    """An ASS script with `text` large and centred for the whole card, fading in and out."""
    width, height = size
    font = max(36, round(min(width, height) * 0.11))
    fade = round(min(400, length * 1000 / 4))
    lines = ass_head(size, f"Card,Source Sans Pro,{font},&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,-1,0,0,0,100,"
                           f"100,0,0,1,{max(2, font // 16)},{max(1, font // 24)},5,{round(width * 0.1)},"
                           f"{round(width * 0.1)},0,1")
    lines.append(f"Dialogue: 0,{ass_time(0)},{ass_time(length)},Card,,0,0,0,,{{\\fad({fade},{fade})}}{escape(text)}")
    return "\n".join(lines) + "\n"


def card(clip: Path, clip_sha: str, text: str, workspace: Workspace, *, at_end: bool, size: tuple[int, int], fps: int,
         crf: int, preset: str, jobs: int) -> Path:
    """A title (or end) card: the first (or last) frame of `clip`, blurred and darkened, with `text`
    over it, held CARD_SECONDS in the cut's format. Cached by the clip and the text."""
    import hashlib

    from director.media import probe, render_slot, run_ffmpeg, x264

    font = font_file()
    document = card_document(text, size=size, length=CARD_SECONDS)
    key = {"v": CAPTION_VERSION, "card": "end" if at_end else "title", "clip": clip_sha, "size": list(size),
           "fps": fps, "crf": crf, "preset": preset, "ass": hashlib.sha256(document.encode()).hexdigest()}

    def make(tmp: Path) -> None:
        still, script = tmp.with_suffix(".png"), tmp.with_suffix(".ass")
        script.write_text(document, encoding="utf-8")
        seek = max(0.0, (probe(clip).duration or 0.0) - 1.5 / fps) if at_end else 0.0
        try:
            run_ffmpeg(["-ss", f"{seek:.3f}", "-i", str(clip), "-frames:v", "1", str(still)],
                       what=f"take a frame of {clip.name} for a card")
            width, height = size
            graph = (f"scale={width}:{height},gblur=sigma={max(8, width // 60)},eq=brightness=-0.12,"
                     f"ass={filter_path(script)}:fontsdir={filter_path(font.parent)},format=yuv420p")
            with render_slot(jobs):
                run_ffmpeg(["-loop", "1", "-framerate", str(fps), "-t", f"{CARD_SECONDS:.3f}", "-i", str(still),
                            "-vf", graph, "-r", str(fps), "-an", *x264(crf, preset), str(tmp)],
                           what="draw a title card" if not at_end else "draw an end card")
        finally:
            still.unlink(missing_ok=True)
            script.unlink(missing_ok=True)

    return workspace.cached("cards", key, ".mp4", make)
