"""Vertex-only capabilities through google-genai: Veo motion and Lyria 2 music.

google-genai 3.x refuses generate_videos in API-key (Gemini Developer API) mode,
and Lyria 2 is a Vertex model, so these need a Vertex client: a project with
application-default credentials, or an express-mode API key. (Imagen, the other
one, was shut down on 2026-08-17; see director/models.toml.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from google.genai import types

from director.backends.base import Clip, Job, held, write_clip
from director.backends.gemini import GoogleClient
from director.backends.replies import aspect_of, whole_wav
from director.errors import NeedsVertex, ProviderError, SafetyBlocked, UnsureStart
from director.limits import record_track, record_video
from director.models import clip_seconds, extension_plan, limits_of

log = logging.getLogger(__name__)

VERTEX_HELP = ("set GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION (or a Vertex "
               "express API key) and use --backend vertex")


def require_vertex(client: GoogleClient, what: str) -> None:
    if client.provider != "vertex":
        raise NeedsVertex(f"{what} needs Vertex AI: google-genai refuses it in Gemini API-key mode; {VERTEX_HELP}")


class VeoAnimator:
    """Veo 3.1 image-to-video on Vertex: start a long-running operation, save its name, poll it, download the clip.

    Asked for the run's resolution (1080p unless the run says otherwise), with the run's seed, a negative
    prompt, adults allowed in frame, and no generated sound unless the run keeps it (the narration replaces
    it, at half the price). With a last frame (the next scene's still) the clip ends on it. A scene longer
    than the longest clip is extended (Veo adds about 7 s a time, to a video of at most 30 s: the catalog's
    extension limits) instead of freezing its last frame."""

    name = "veo"

    def __init__(self, client: GoogleClient, model: str, *, poll_s: float, timeout_s: float) -> None:
        require_vertex(client, "Veo motion")
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
        resolution: str = "1080p",
        sound: str = "auto",
        job: Job | None = None,
    ) -> Clip:
        seconds = clip_seconds(self.model, duration, resolution)
        audio = sound in ("keep", "speech") if limits_of(self.model).sound else None  # speech: a line said on screen
        aspect = aspect_of(*size)
        source = types.GenerateVideosSource(prompt=prompt, image=_image(image))
        config = types.GenerateVideosConfig(
            number_of_videos=1, duration_seconds=seconds, aspect_ratio=aspect if aspect != "1:1" else "16:9",
            generate_audio=audio, resolution=resolution, negative_prompt=negative or None, seed=seed % 2**32,
            person_generation="allow_adult", last_frame=_image(last_frame) if last_frame else None)
        data = self.run(source, config, job, report, what="clip")
        record_video(self.model, seconds, resolution=resolution, audio=bool(audio))  # billed, whole or not
        length = float(seconds)
        plan = extension_plan(self.model, length, duration)
        limits = limits_of(self.model)
        for number, add in enumerate(plan, start=1):
            # Longer than the longest clip: extend it (at 720p, 8 s asked, 7 s added) rather than hold a frame.
            if report:
                report(f"extending the clip ({length:.0f} s of {duration:.0f} s)")
            source = types.GenerateVideosSource(prompt=prompt, video=types.Video(video_bytes=data, mime_type="video/mp4"))
            asks, at = limits.extension_asks or add, limits.extension_resolution or resolution
            config = types.GenerateVideosConfig(number_of_videos=1, duration_seconds=asks, resolution=at,
                                                generate_audio=audio, negative_prompt=negative or None,
                                                seed=seed % 2**32, person_generation="allow_adult")
            step = Job(f"{job.key}#extend{number}", job.catalog, job.run_id) if job else None
            data = self.run(source, config, step, report, what="extension")
            record_video(self.model, asks, resolution=at, audio=bool(audio))
            length += add
        held(self.model, duration, length, report)
        write_clip(out, data, self.model, self.name)
        log.info("veo %s: %d s clip at %s, %d extension(s)", self.model, seconds, resolution, len(plan))
        return Clip(seconds=length, sound=bool(audio))

    def run(self, source: types.GenerateVideosSource, config: types.GenerateVideosConfig, job: Job | None,
            report: Callable[[str], None] | None, *, what: str) -> bytes:
        """One operation to its video: the saved one if this call started it before, else a new one whose
        name is saved at once. A start that may have reached Veo is never sent again on its own."""
        api = self.client.for_model(self.model)
        name = job.saved(self.name, self.model) if job else None
        if name is not None:
            if report:
                report(f"polling the {what} started before ({name})")
            # `name` is a field of the SDK's Operation mixin, which pydantic's mypy plugin does not see.
            operation = types.GenerateVideosOperation(name=name)  # type: ignore[call-arg]
        else:
            made: list[Any] = []

            def start() -> str:
                try:
                    made.append(self.client.call(self.model, lambda: api.models.generate_videos(
                        model=self.model, source=source, config=config), start=True))
                except UnsureStart:
                    raise
                except ProviderError as exc:
                    if exc.status == 404:
                        raise ProviderError(
                            f"{exc} - Veo answered 404: the model name may be wrong (DIRECTOR_VIDEO_MODEL="
                            f"{self.model}) or the project has no billing enabled for Veo",
                            provider=self.name, model=self.model, status=404) from exc
                    raise
                return str(made[0].name)

            if job:
                job.begin(self.name, self.model, start)
            else:
                start()
            operation = made[0]
        started = time.monotonic()
        polls = 0
        while not operation.done:
            elapsed = time.monotonic() - started
            if elapsed > self.timeout_s:
                raise ProviderError(
                    f"Veo operation {operation.name} did not finish within {self.timeout_s:.0f} s (resume the run to "
                    f"keep waiting for it; it is not started again)", provider=self.name, model=self.model)
            if polls and report:
                report(f"waiting for Veo, {elapsed:.0f} s")
            if polls or name is None:
                time.sleep(self.poll_s)
            polls += 1
            try:
                # partial binds this round's operation (a lambda would read the loop variable late).
                operation = self.client.call(f"{self.model}:poll", partial(api.operations.get, operation))
            except ProviderError as exc:
                if exc.status == 404 and job:
                    job.forget()  # gone: nothing left to poll, so a resume starts it anew
                raise
        if operation.error:
            if job:
                job.forget()  # Veo bills only a clip it delivers: a retry may start a new one
            raise ProviderError(f"Veo operation failed: {operation.error}", provider=self.name, model=self.model)
        result = operation.response or operation.result
        videos = [v for v in (result.generated_videos if result else None) or [] if v.video]
        if not videos:
            if job:
                job.forget()
            filtered = result.rai_media_filtered_count if result else None
            reasons = "; ".join(result.rai_media_filtered_reasons or []) if result else ""
            raise SafetyBlocked(f"Veo returned no video ({filtered or 0} filtered{': ' + reasons if reasons else ''})",
                                provider=self.name, model=self.model)
        video = videos[0].video
        data = video.video_bytes  # type: ignore[union-attr]
        if not data:
            raise ProviderError(f"Veo returned the clip only as {video.uri}; Director needs inline bytes "  # type: ignore[union-attr]
                                f"(do not set an output GCS URI)", provider=self.name, model=self.model)
        return data


def _image(path: Path) -> types.Image:
    return types.Image(image_bytes=path.read_bytes(), mime_type="image/png")


LYRIA_NEGATIVE = "vocals, singing, speech, lyrics, sudden loud drums"
"""What the bed must not have: it plays under a voice."""


class LyriaMusic:
    """Lyria 2 (`lyria-002`) on Vertex: one :predict per track, about 30 s of 48 kHz instrumental WAV.

    google-genai has no method for Lyria 2, so the request goes through the SDK's own API client
    (its auth, base URL, project path and retries), with the body Vertex documents:
    `instances: [{prompt, negative_prompt, seed}]`. A seed and `sample_count` may not be sent
    together; Director sends the seed, so the same run gets the same music.
    """

    name = "lyria"

    def __init__(self, client: GoogleClient, model: str) -> None:
        require_vertex(client, "Lyria music (DIRECTOR_MUSIC_BACKEND=lyria)")
        self.client, self.model = client, model

    def make_music(self, prompt: str, *, mood: str, seed: int, out: Path) -> str:
        import base64
        import binascii
        import json

        body: dict[str, object] = {"instances": [{"prompt": prompt, "negative_prompt": LYRIA_NEGATIVE, "seed": seed}],
                                   "parameters": {}}

        def predict() -> bytes:
            api = self.client.for_model(self.model)._api_client  # noqa: SLF001 - the SDK's client, for a model it has no method for
            response = api.request("post", f"publishers/google/models/{self.model}:predict", body)
            try:
                answer = json.loads(response.body or "{}")
            except json.JSONDecodeError as exc:
                raise ProviderError(f"{self.model}: the answer was not JSON ({exc})", provider=self.name,
                                    model=self.model, retryable=True) from None
            predictions = [p for p in answer.get("predictions") or [] if isinstance(p, dict)]
            if not predictions or not predictions[0].get("bytesBase64Encoded"):
                reason = next((p.get("raiFilteredReason") for p in predictions if p.get("raiFilteredReason")), None)
                raise SafetyBlocked(f"Lyria returned no music ({reason or 'no audio in the answer'}); resume "
                                    f"with DIRECTOR_MUSIC_BACKEND=local for the offline library, or --music none",
                                    provider=self.name, model=self.model)
            record_track(self.model, 1)  # billed, whole or not
            try:
                data = base64.b64decode(predictions[0]["bytesBase64Encoded"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderError(f"{self.model}: the audio came back damaged ({exc})", provider=self.name,
                                    model=self.model, retryable=True) from None
            whole_wav(data, provider=self.name, model=self.model, min_seconds=1.0)
            return data

        out.write_bytes(self.client.call(self.model, predict))
        return f"{self.model} ({mood})"
