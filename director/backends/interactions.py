"""What a plain Gemini API key makes through the Interactions API: motion (Gemini Omni Flash) and music
(Lyria 3).

Motion:

Each scene's clip starts from its still (`image_to_video`; with a last frame, the next scene's still,
the model interpolates toward it), as long as the scene needs within the model's range (the catalog's
clip lengths). The interaction runs in the background: its id is saved in the catalog the moment it is
known, so a resume polls it instead of paying for another. Omni always makes sound; the prompt asks for
ambience only, and the mix puts it under the narration, ducked. It bills per delivered second, by
resolution (the catalog's prices).

Music: Lyria 3.5 composes one instrumental piece to the cut's length (asked for in the prompt: the model
has no length field), priced per piece; its answer is MP3 with the song's structure as text.

This module reaches google-genai only through GoogleClient (director/backends/gemini.py).
"""

from __future__ import annotations

import base64
import binascii
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from director.backends.base import Clip, Job, held, write_clip
from director.backends.gemini import GoogleClient
from director.backends.replies import aspect_of
from director.errors import ProviderError, SafetyBlocked
from director.limits import record_track, record_video
from director.models import clip_seconds, extension_plan, limits_of

log = logging.getLogger(__name__)

DONE = {"completed"}
STOPPED = {"failed", "cancelled", "incomplete", "budget_exceeded"}
SAFETY_WORDS = ("safety", "blocked", "policy", "prohibited", "responsible ai", "rai")
AMBIENCE = "Sound: natural ambience and gentle effects only; no speech, no singing, no music (a narrator is added later)."
SPEECH = ("Sound: natural ambience and gentle effects; the characters say the quoted lines in their own voices, "
          "lips in sync, and nothing else; no singing, no music (a narrator is added later).")


class OmniAnimator:
    """Gemini Omni Flash image-to-video (Interactions API, background, polled)."""

    name = "omni"

    def __init__(self, client: GoogleClient, model: str, *, poll_s: float, timeout_s: float) -> None:
        self.client, self.model = client, model
        self.poll_s, self.timeout_s = poll_s, timeout_s

    def animate(
        self,
        image: Path,
        *,
        prompt: str,
        duration: float,
        motion: str,
        size: tuple[int, int],
        fps: int,
        out: Path,
        report: Callable[[str], None] | None = None,
        negative: str = "",
        seed: int = 0,
        last_frame: Path | None = None,
        resolution: str = "720p",
        sound: str = "auto",
        job: Job | None = None,
    ) -> Clip:
        seconds = clip_seconds(self.model, duration)
        body = self.request(image, prompt=prompt, seconds=seconds, size=size, negative=negative, seed=seed,
                            last_frame=last_frame, resolution=resolution, sound=sound)
        data = self.interact(body, job, report)
        from director.media import probe

        write_clip(out, data, self.model)
        delivered = probe(out).duration or float(seconds)
        record_video(self.model, delivered, resolution=resolution, audio=True)  # billed per delivered second
        for number, add in enumerate(extension_plan(self.model, delivered, duration), start=1):
            # Longer than the longest clip: Omni extends the video (3 to 10 s a time) rather than hold a frame.
            if report:
                report(f"extending the clip ({delivered:.0f} s of {duration:.0f} s)")
            step = Job(f"{job.key}#extend{number}", job.catalog, job.run_id) if job else None
            data = self.interact(self.extension(body, data, add), step, report)
            write_clip(out, data, self.model)
            longer = probe(out).duration or delivered + add
            record_video(self.model, max(0.0, longer - delivered), resolution=resolution, audio=True)
            delivered = longer
        held(self.model, duration, delivered, report)
        return Clip(seconds=delivered, sound=True)

    def interact(self, body: dict[str, Any], job: Job | None, report: Callable[[str], None] | None) -> bytes:
        """One interaction to its video: the saved one if this step started it before (polled), else a new one
        whose id is saved at once."""
        api = self.client.for_model(self.model)
        name = job.saved(self.name, self.model) if job else None
        interaction = None
        if name is None:
            made: list[Any] = []

            def start() -> str:
                made.append(self.client.call(self.model, lambda: api.interactions.create(**body), start=True))
                return str(made[0].id)

            name = job.begin(self.name, self.model, start) if job else start()
            interaction = made[0]
        elif report:
            report(f"polling the clip started before ({name})")
        interaction = self.wait(api, name, interaction, report, job)
        data = output_bytes(interaction, "video")
        if data is None:
            raise ProviderError(f"{self.model}: the interaction {name} completed without a video", provider=self.name,
                                model=self.model)
        return data

    def extension(self, body: dict[str, Any], video: bytes, seconds: int) -> dict[str, Any]:
        """The create body that extends `video` by `seconds`: the same prompt and format, the video as input."""
        text = next(b["text"] for b in body["input"] if b["type"] == "text")
        return {**body, "input": [{"type": "text", "text": text},
                                  {"type": "video", "mime_type": "video/mp4", "data": base64.b64encode(video).decode()}],
                "response_format": {**body["response_format"], "duration": f"{seconds}s"},
                "generation_config": {**body["generation_config"], "video_config": {"task": "extend"}}}

    def request(self, image: Path, *, prompt: str, seconds: int, size: tuple[int, int], negative: str, seed: int,
                last_frame: Path | None, resolution: str, sound: str) -> dict[str, Any]:
        """The create body: the motion prompt, what to avoid and the sound in words (Omni has no negative prompt
        or sound switch), the still as the first frame (and the next scene's as the last)."""
        allowed = limits_of(self.model).resolutions
        if allowed and resolution not in allowed:
            raise ProviderError(f"{self.model} makes {', '.join(allowed)} video, not {resolution}", provider=self.name,
                                model=self.model)
        text = prompt.strip()
        if negative:
            text += f"\nAvoid: {negative}."
        if sound == "speech":
            text += "\n" + SPEECH
        elif sound != "keep":
            text += "\n" + AMBIENCE
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}, image_block(image)]
        if last_frame is not None:
            blocks.append(image_block(last_frame))
        aspect = aspect_of(*size)
        return {
            "model": self.model,
            "input": blocks,
            "response_format": {"type": "video", "aspect_ratio": aspect if aspect != "1:1" else "16:9",
                                "resolution": resolution, "duration": f"{seconds}s", "delivery": "inline"},
            "generation_config": {"seed": seed % 2**31, "video_config": {"task": "image_to_video"}},
            "background": True,
        }

    def wait(self, api: Any, name: str, interaction: Any, report: Callable[[str], None] | None,
             job: Job | None) -> Any:
        started = time.monotonic()
        while interaction is None or interaction.status not in DONE:
            if interaction is not None and interaction.status in STOPPED:
                if job:
                    job.forget()  # nothing was delivered, so nothing was billed: a retry starts anew
                why = failure(interaction)
                kind = SafetyBlocked if any(w in why.lower() for w in SAFETY_WORDS) else ProviderError
                raise kind(f"{self.model}: the clip {interaction.status} ({why})", provider=self.name,
                           model=self.model)
            elapsed = time.monotonic() - started
            if elapsed > self.timeout_s:
                raise ProviderError(f"{self.model}: the clip {name} did not finish within {self.timeout_s:.0f} s; "
                                    f"resume the run to keep waiting for it (it is not started again)",
                                    provider=self.name, model=self.model)
            if interaction is not None:
                if report:
                    report(f"waiting for Omni, {elapsed:.0f} s")
                time.sleep(self.poll_s)
            try:
                interaction = self.client.call(f"{self.model}:poll", lambda: api.interactions.get(name))
            except ProviderError as exc:
                if exc.status == 404 and job:
                    job.forget()
                    raise ProviderError(f"{self.model}: the clip's interaction {name} is gone; resume the run to "
                                        f"make it again", provider=self.name, model=self.model) from None
                raise
        return interaction


def image_block(path: Path) -> dict[str, Any]:
    mime = "image/jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "image/png"
    return {"type": "image", "mime_type": mime, "data": base64.b64encode(path.read_bytes()).decode()}


def output_bytes(interaction: Any, kind: str) -> bytes | None:
    """The last `kind` ("video", "audio") the model output, decoded (google-genai 3.x keeps it as base64 text)."""
    found = None
    for step in getattr(interaction, "steps", None) or []:
        if getattr(step, "type", None) != "model_output":
            continue
        for content in getattr(step, "content", None) or []:
            if getattr(content, "type", None) == kind and getattr(content, "data", None):
                found = content.data
    if found is None or isinstance(found, bytes):
        return found
    try:
        return base64.b64decode(found, validate=True)
    except (binascii.Error, ValueError):
        return None  # mangled on the way: no media in it


def failure(interaction: Any) -> str:
    """Why an interaction stopped, from its errors or its output step's error."""
    reasons = [str(getattr(e, "message", "") or getattr(e, "code", "")) for e in getattr(interaction, "errors", None) or []]
    for step in getattr(interaction, "steps", None) or []:
        error = getattr(step, "error", None)
        if error is not None:
            reasons.append(str(getattr(error, "message", "") or error))
    return "; ".join(r for r in reasons if r) or "no reason given"


class LyriaSongs:
    """Lyria 3 on the Gemini API: one instrumental piece per request, as long as the prompt asks."""

    name = "lyria3"

    def __init__(self, client: GoogleClient, model: str) -> None:
        self.client, self.model = client, model

    def make_music(self, prompt: str, *, mood: str, seed: int, out: Path) -> str:
        if "instrumental" not in prompt.lower():  # Lyria 3 sings unless told not to
            prompt = f"Instrumental, no vocals. {prompt}"
        api = self.client.for_model(self.model)
        # A plain JSON body, as for the clips above: the SDK's typed overloads want its model names as Literals.
        body: dict[str, Any] = {"model": self.model, "input": prompt, "generation_config": {"seed": seed % 2**31}}

        def compose() -> bytes:
            interaction = api.interactions.create(**body)
            if interaction.status in STOPPED:
                why = failure(interaction)
                kind = SafetyBlocked if any(w in why.lower() for w in SAFETY_WORDS) else ProviderError
                raise kind(f"{self.model}: no music ({why}); resume with DIRECTOR_MUSIC_BACKEND=local for the "
                           f"offline library, or --music none", provider=self.name, model=self.model)
            data = output_bytes(interaction, "audio")
            if data is None:
                raise ProviderError(f"{self.model}: the answer held no audio", provider=self.name, model=self.model,
                                    retryable=True)
            record_track(self.model, 1)  # billed per piece, whole or not
            whole_audio(data, provider=self.name, model=self.model)
            return data

        out.write_bytes(self.client.call(self.model, compose))
        return f"{self.model} ({mood})"


def whole_audio(data: bytes, *, provider: str, model: str) -> None:
    """Refuse music that does not decode to the end, or holds under a few seconds: retryable."""
    import io

    import av

    try:
        with av.open(io.BytesIO(data), "r") as container:  # "r" is the default; named, it types as an input
            seconds = 0.0
            for frame in container.decode(audio=0):
                seconds = float(frame.time or 0.0) + frame.samples / float(frame.sample_rate or 1)
    except Exception as exc:  # noqa: BLE001 - PyAV raises many kinds for damaged data
        raise ProviderError(f"{model}: the music came back damaged ({type(exc).__name__})", provider=provider,
                            model=model, retryable=True) from None
    if seconds < 3.0:
        raise ProviderError(f"{model}: the music came back too short ({seconds:.1f} s)", provider=provider,
                            model=model, retryable=True)
