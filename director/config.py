"""Settings: one pydantic-settings model, env prefix DIRECTOR_.

Secrets are SecretStr so they never print. Tools never read the environment;
they get a Settings instance through their ToolContext.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

BackendName = Literal["auto", "local", "gemini", "vertex"]


def default_home() -> Path:
    return Path("~/.director").expanduser()


class Settings(BaseSettings):
    """Every knob Director has. Each field can be set as DIRECTOR_<NAME>."""

    model_config = SettingsConfigDict(env_prefix="DIRECTOR_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="Default workspace.")
    backend: BackendName = Field("auto", description="Which provider family to use.")
    fps: int = Field(30, ge=1, le=60, description="Frame rate of clips and the final video.")
    workers: int = Field(4, ge=1, le=32, description="Tool calls run at once within a batch.")
    max_steps: int = Field(250, ge=4, description="Upper bound on graph super-steps per run.")
    default_scenes: int = Field(4, ge=1, le=50, description="Scenes when neither goal nor flag says.")
    voice: str = Field("en_US-joe-medium", description="Local Piper voice.")
    crf: int = Field(20, ge=0, le=51, description="x264 quality for clips.")
    x264_preset: str = Field("veryfast", description="x264 speed/size trade-off.")

    gemini_api_key: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        description="Gemini Developer API key.",
    )

    def has_gemini_key(self) -> bool:
        return bool(self.gemini_api_key and self.gemini_api_key.get_secret_value())

    def public_dict(self) -> dict[str, object]:
        """Settings safe to write into a manifest: no secrets, paths as strings."""
        data = self.model_dump(mode="json", exclude={"gemini_api_key"})
        data["gemini_api_key"] = "set" if self.has_gemini_key() else None
        return data
