"""Vertex-only capabilities through google-genai: Imagen stills and Veo motion.

google-genai 3.x refuses generate_images and generate_videos in API-key
(Gemini Developer API) mode, so these need a Vertex client: a project with
application-default credentials, or an express-mode API key.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from google.genai import types

from director.backends import without_references
from director.backends.gemini import GoogleClient, aspect_of
from director.errors import NeedsVertex, ProviderError, SafetyBlocked
from director.limits import record_clips, record_images, record_video, veo_audio, veo_seconds

log = logging.getLogger(__name__)

VERTEX_HELP = ("set GOOGLE_GENAI_USE_VERTEXAI=true with GOOGLE_CLOUD_PROJECT and GOOGLE_CLOUD_LOCATION (or a Vertex "
               "express API key) and use --backend vertex")


def require_vertex(client: GoogleClient, what: str) -> None:
    if client.provider != "vertex":
        raise NeedsVertex(f"{what} needs Vertex AI: google-genai refuses it in Gemini API-key mode; {VERTEX_HELP}")


class ImagenImageMaker:
    """Imagen 4 generate_images (Vertex)."""

    name = "imagen"

    def __init__(self, client: GoogleClient, model: str) -> None:
        require_vertex(client, "Imagen (DIRECTOR_IMAGE_BACKEND=imagen)")
        self.client, self.model = client, model

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path,
                     references: list[Path] | None = None) -> None:
        # Imagen 4's generate takes no pictures (subject references are Imagen 3 capability's
        # edit_image): the character sheet in words carries the looks.
        prompt = without_references(prompt)
        config = types.GenerateImagesConfig(number_of_images=1, aspect_ratio=aspect_of(width, height),
                                            output_mime_type="image/png", include_rai_reason=True)
        from director.backends.gemini import save_png, whole_image

        def generate() -> types.GenerateImagesResponse:
            with warnings.catch_warnings():  # the SDK flags generate_images as deprecated after Jan 2027
                warnings.simplefilter("ignore")
                response = self.client.client.models.generate_images(model=self.model, prompt=prompt, config=config)
            for g in (response.generated_images or [])[:1]:
                if g.image and g.image.image_bytes:
                    record_images(self.model, 1)  # billed, whole or not
                    whole_image(g.image.image_bytes, provider=self.name, model=self.model)
            return response

        response = self.client.call(self.model, generate)
        images = [g for g in (response.generated_images or []) if g.image and g.image.image_bytes]
        if not images:
            reasons = [g.rai_filtered_reason for g in (response.generated_images or []) if g.rai_filtered_reason]
            raise SafetyBlocked(f"image filtered by Imagen ({'; '.join(reasons) or 'no image returned'})",
                                provider=self.name, model=self.model)
        save_png(images[0].image.image_bytes, out)  # type: ignore[union-attr,arg-type]


class VeoAnimator:
    """Veo image-to-video: start a long-running operation, poll it, download the clip."""

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
    ) -> None:
        seconds = veo_seconds(duration)
        audio = veo_audio(self.model)
        aspect = aspect_of(*size)
        camera = motion.replace("_", " ")
        source = types.GenerateVideosSource(
            prompt=f"{prompt}\nCamera: slow {camera}. Gentle, natural motion; keep the characters and art style.",
            image=types.Image(image_bytes=image.read_bytes(), mime_type="image/png"),
        )
        config = types.GenerateVideosConfig(number_of_videos=1, duration_seconds=seconds,
                                            aspect_ratio=aspect if aspect != "1:1" else "16:9",
                                            generate_audio=audio)
        try:
            operation = self.client.call(self.model, lambda: self.client.client.models.generate_videos(
                model=self.model, source=source, config=config))
        except ProviderError as exc:
            if exc.status == 404:
                raise ProviderError(
                    f"{exc} - Veo answered 404: the model name may be wrong (DIRECTOR_VIDEO_MODEL={self.model}) or "
                    f"the project has no billing enabled for Veo",
                    provider=self.name, model=self.model, status=404) from exc
            raise
        started = time.monotonic()
        polls = 0
        while not operation.done:
            elapsed = time.monotonic() - started
            if elapsed > self.timeout_s:
                raise ProviderError(
                    f"Veo operation {operation.name} did not finish within {self.timeout_s:.0f} s "
                    f"(raise DIRECTOR_VEO_TIMEOUT_S, then resume the run)", provider=self.name, model=self.model)
            if report:
                report(f"waiting for Veo, {elapsed:.0f} s")
            time.sleep(self.poll_s)
            polls += 1
            current = operation
            operation = self.client.call(f"{self.model}:poll", lambda: self.client.client.operations.get(current))
        if operation.error:
            raise ProviderError(f"Veo operation failed: {operation.error}", provider=self.name, model=self.model)
        result = operation.response or operation.result
        videos = [v for v in (result.generated_videos if result else None) or [] if v.video]
        if not videos:
            filtered = result.rai_media_filtered_count if result else None
            reasons = "; ".join(result.rai_media_filtered_reasons or []) if result else ""
            raise SafetyBlocked(f"Veo returned no video ({filtered or 0} filtered{': ' + reasons if reasons else ''})",
                                provider=self.name, model=self.model)
        video = videos[0].video
        data = video.video_bytes  # type: ignore[union-attr]
        if not data:
            raise ProviderError(f"Veo returned the clip only as {video.uri}; Director needs inline bytes "  # type: ignore[union-attr]
                                f"(do not set an output GCS URI)", provider=self.name, model=self.model)
        record_video(self.model, seconds, audio=bool(audio))  # billed, whole or not
        out.write_bytes(data)
        try:
            from director.media import check_decodes

            check_decodes(out)
        except Exception as exc:  # noqa: BLE001 - a clip that does not decode is of no use
            out.unlink(missing_ok=True)
            raise ProviderError(f"Veo returned a damaged clip ({type(exc).__name__}); the scene can be made "
                                f"again with director resume", provider=self.name, model=self.model) from None
        log.info("veo %s: %d s clip after %d polls", self.model, seconds, polls)


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

        body = {"instances": [{"prompt": prompt, "negative_prompt": LYRIA_NEGATIVE, "seed": seed}], "parameters": {}}

        def predict() -> bytes:
            api = self.client.client._api_client  # noqa: SLF001 - the SDK's client, for a model it has no method for
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
            record_clips(self.model, 1)  # billed, whole or not
            try:
                data = base64.b64decode(predictions[0]["bytesBase64Encoded"], validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderError(f"{self.model}: the audio came back damaged ({exc})", provider=self.name,
                                    model=self.model, retryable=True) from None
            whole_audio(data, provider=self.name, model=self.model)
            return data

        out.write_bytes(self.client.call(self.model, predict))
        return f"{self.model} ({mood})"


def whole_audio(data: bytes, *, provider: str, model: str) -> None:
    """Refuse a WAV that is cut short of what its header says, or holds under a second: retryable."""
    import io
    import wave

    try:
        with wave.open(io.BytesIO(data)) as w:
            frames, width = w.getnframes(), w.getsampwidth() * w.getnchannels()
            got = len(w.readframes(frames)) // max(1, width)
            seconds = frames / float(w.getframerate() or 1)
    except (wave.Error, EOFError) as exc:
        raise ProviderError(f"{model}: the music is not a WAV Director can read ({exc})", provider=provider,
                            model=model, retryable=True) from None
    if got < frames or seconds < 1.0:
        raise ProviderError(f"{model}: the music came back damaged ({got} of {frames} samples)", provider=provider,
                            model=model, retryable=True)
