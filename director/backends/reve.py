"""Reve image API (create, edit, remix) over httpx. Optional: the API is being sunset.

Requests ask for raw PNG bytes (Accept: image/png); Reve reports problems in
X-Reve-* headers. 429 honours Retry-After; 402 means the credits are gone.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any

import httpx

from director.backends.base import image_refs
from director.backends.replies import aspect_of, save_png
from director.config import Settings
from director.errors import BudgetExceeded, ConfigError, ProviderError, SafetyBlocked
from director.limits import Limits, parse_retry_delay, record_images

log = logging.getLogger(__name__)


class ReveImageMaker:
    name = "reve"

    def __init__(self, settings: Settings, limits: Limits) -> None:
        if not settings.reve_api_key or not settings.reve_api_key.get_secret_value():
            raise ConfigError("the reve image backend needs REVE_API_KEY")
        self.limits = limits
        self.version = settings.reve_version
        self.model = f"reve:{settings.reve_version or 'latest'}"
        self.http = httpx.Client(
            base_url=settings.reve_base_url,
            timeout=settings.request_timeout_s,
            headers={"Authorization": f"Bearer {settings.reve_api_key.get_secret_value()}",
                     "Accept": "image/png", "Content-Type": "application/json"},
        )

    def _classify(self, exc: BaseException) -> ProviderError:
        if isinstance(exc, httpx.TimeoutException | httpx.TransportError):
            return ProviderError(f"reve: {type(exc).__name__}: {exc}", provider="reve", model=self.model, retryable=True)
        return ProviderError(f"reve: {type(exc).__name__}: {exc}", provider="reve", model=self.model)

    def _post(self, endpoint: str, payload: dict[str, Any], out: Path) -> None:
        if self.version:
            payload["version"] = self.version

        def send() -> bytes:
            response = self.http.post(endpoint, json=payload)
            request_id = response.headers.get("x-reve-request-id", "?")
            if response.status_code == 402:
                raise BudgetExceeded(f"Reve credits are exhausted (402 on request {request_id}); top up at api.reve.com")
            if response.status_code == 429 or response.status_code >= 500:
                raise ProviderError(f"reve {endpoint}: {response.status_code} (request {request_id})",
                                    provider="reve", model=self.model, status=response.status_code, retryable=True,
                                    retry_after=parse_retry_delay(response.headers.get("retry-after")))
            if response.status_code != 200:
                code = response.headers.get("x-reve-error-code", "")
                raise ProviderError(f"reve {endpoint}: {response.status_code} {code} {response.text[:200]}".strip(),
                                    provider="reve", model=self.model, status=response.status_code)
            if response.headers.get("x-reve-content-violation", "false").lower() != "false":
                raise SafetyBlocked(f"reve {endpoint}: content violation (request {request_id})",
                                    provider="reve", model=self.model)
            if not response.content:
                raise ProviderError(f"reve {endpoint}: empty image (request {request_id})", provider="reve",
                                    model=self.model)
            return response.content

        data = self.limits.call("reve", send, classify=self._classify)
        save_png(data, out)
        record_images("reve", 1)

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path,
                     references: list[Path] | None = None) -> None:
        if references:  # remix takes reference pictures named <img>N</img>, as the prompt does
            self.remix_images(references, prompt, width=width, height=height, out=out)
            return
        self._post("/v1/image/create", {"prompt": prompt, "aspect_ratio": aspect_of(width, height)}, out)

    def edit_image(self, image: Path, instruction: str, *, out: Path, size: tuple[int, int] | None = None) -> None:
        self._post("/v1/image/edit", {"edit_instruction": instruction,
                                      "reference_image": base64.b64encode(image.read_bytes()).decode()}, out)

    def remix_images(self, images: list[Path], prompt: str, *, width: int, height: int, out: Path) -> None:
        image_refs(prompt, len(images))
        self._post("/v1/image/remix", {"prompt": prompt, "aspect_ratio": aspect_of(width, height),
                                       "reference_images": [base64.b64encode(p.read_bytes()).decode() for p in images]},
                   out)
