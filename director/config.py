"""Settings: one pydantic-settings model, env prefix DIRECTOR_.

Provider credentials keep the names their SDKs document (GEMINI_API_KEY,
GOOGLE_CLOUD_PROJECT, REVE_API_KEY...). Secrets are SecretStr so they never
print. Tools never read the environment; they get a Settings instance.
`$DIRECTOR_HOME/config.toml` can hold [rate_limits] and [prices] tables.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from director.choices import Resolution
from director.errors import ConfigError
from director.models import default_model

BackendName = Literal["auto", "local", "openai", "gemini", "vertex"]


def default_home() -> Path:
    return Path("~/.director").expanduser()


class Settings(BaseSettings):
    """Every knob Director has. Each field can be set as DIRECTOR_<NAME> unless noted."""

    model_config = SettingsConfigDict(env_prefix="DIRECTOR_", extra="ignore", populate_by_name=True)

    home: Path = Field(default_factory=default_home, description="Default workspace.")
    backend: BackendName = Field("auto", description="Which provider family to use.")
    fps: int = Field(30, ge=1, le=60, description="Frame rate of clips and the final video.")
    workers: int = Field(4, ge=1, le=32, description="Tool calls run at once within a batch.")
    render_jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=64,
                             description="Video encodes at once (Ken Burns clips, held stills, normalising); default: cores.")
    max_steps: int = Field(250, ge=4, description="Upper bound on graph super-steps per run.")
    default_scenes: int = Field(4, ge=1, le=50, description="Scenes when neither goal nor flag says.")
    voice: str = Field("en_US-joe-medium", description="Local Piper voice.")
    crf: int = Field(20, ge=0, le=51, description="x264 quality for clips.")
    x264_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                         "veryslow", "placebo"] = Field("veryfast", description="x264 speed/size trade-off.")

    # Per-role provider choice, from the registry in director/backends; None follows the backend family.
    brain_backend: str | None = Field(None, description="Who plans the tool calls (gemini, local).")
    story_backend: str | None = Field(None, description="Who writes the story (gemini, local).")
    image_backend: str | None = Field(None, description="Who draws (gemini, reve, local).")
    voice_backend: str | None = Field(None, description="Who narrates (gemini, local).")
    motion_backend: str | None = Field(None, description="Who animates (omni on an API key, veo on Vertex, local).")
    edit_backend: str | None = Field(None, description="Who edits and remixes (gemini, reve, local).")
    vision_backend: str | None = Field(None, description="Who describes and transcribes (gemini, local).")
    music_backend: str | None = Field(None, description="Who makes the music bed (lyria3 on an API key, lyria on "
                                                                  "Vertex, local).")
    fallback: Literal["none", "local"] = Field(
        "none", description="Use the local provider where the family's default needs Vertex (Veo, in API-key mode)."
    )

    # Models: the defaults come from the model catalog (director/models.toml), which knows what Google
    # serves today; `director models` lists them with their status and prices.
    brain_model: str = Field(default_factory=lambda: default_model("brain"), description="Function-calling model.")
    story_model: str = Field(default_factory=lambda: default_model("story"), description="Structured-output story model.")
    vision_model: str = Field(default_factory=lambda: default_model("vision"),
                              description="describe_frame, transcribe and continuity model.")
    image_model: str = Field(default_factory=lambda: default_model("image"),
                             description="Gemini image model: create, edit, remix and reference sheets.")
    video_model: str = Field(default_factory=lambda: default_model("video"), description="Veo model (Vertex only).")
    omni_model: str = Field(default_factory=lambda: default_model("omni"),
                            description="Gemini Omni Flash model: motion on a Gemini API key (Interactions API).")
    tts_model: str = Field(default_factory=lambda: default_model("tts"), description="Gemini TTS model.")
    tts_voice: str = Field("Kore", description="Gemini TTS prebuilt voice.")
    music_model: str = Field(default_factory=lambda: default_model("music"), description="Lyria 2 model (Vertex).")
    lyria_model: str = Field(default_factory=lambda: default_model("lyria"),
                             description="Lyria 3 model: the music bed on a Gemini API key (Interactions API).")
    reve_version: str | None = Field(None, description="Reve model version; latest when unset.")

    # Long-running work and retries.
    request_timeout_s: float = Field(120.0, gt=0, description="HTTP timeout per provider request.")
    veo_poll_s: float = Field(5.0, gt=0, description="Seconds between Veo operation polls.")
    veo_timeout_s: float = Field(900.0, gt=0, description="Give up on a Veo operation after this long.")
    max_attempts: int = Field(5, ge=1, le=20, description="Tries per provider request (429/5xx/timeouts).")
    backoff_base_s: float = Field(1.0, ge=0, description="First back-off for 5xx and timeouts.")
    backoff_max_s: float = Field(60.0, ge=0, description="Longest single back-off.")
    budget_usd: float | None = Field(None, ge=0, description="Stop before a call would spend more than this.")
    default_budget_usd: float = Field(
        2.0, ge=0, description="Spending cap of a run on a paid backend when no budget is given; a quote past it "
                               "stops at the approval gate.")
    mcp_budget_usd: float | None = Field(
        None, ge=0, description="What an assistant (the MCP face) may have a paid run spend without asking: a paid "
                                "run stops at the approval gate with its quote unless this, or [mcp] budget_usd in "
                                "config.toml, is set; no budget an assistant names may pass it.")
    brain_retries: int = Field(2, ge=0, le=10, description="Corrective re-asks after an unusable brain reply.")
    resolution: Resolution = Field(
        "auto", description="Video resolution of a run that does not say: auto (the motion model's own), 360p (a "
                            "draft), 720p, 1080p or 4k.")
    tier: Literal["standard", "flex"] = Field(
        "standard", description="Service tier of the calls that can wait (story, sheets, stills, checks) when a run "
                                "does not say: flex is about half the price and slower (minutes).")

    # Credentials and endpoints, under the names the providers document.
    gemini_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY"), description="Gemini/Vertex express key."
    )
    use_vertexai: bool = Field(
        False, validation_alias=AliasChoices("GOOGLE_GENAI_USE_VERTEXAI", "use_vertexai"),
        description="Use Vertex AI rather than the Gemini Developer API.",
    )
    cloud_project: str | None = Field(
        None, validation_alias=AliasChoices("GOOGLE_CLOUD_PROJECT", "cloud_project"), description="Vertex project."
    )
    cloud_location: str | None = Field(
        None, validation_alias=AliasChoices("GOOGLE_CLOUD_LOCATION", "cloud_location"),
        description="Vertex region for regional models (Veo, Lyria; default us-central1). Gemini 3.x models are "
                    "served on the global endpoint whatever it says (the model catalog knows which is which).",
    )
    vertex_locations: dict[str, str] = Field(
        default_factory=dict, description="Vertex location per model, over the catalog's, e.g. "
                                          "{\"veo-3.1-generate-001\": \"europe-west4\"}.")
    gemini_base_url: str | None = Field(
        None, validation_alias=AliasChoices("GOOGLE_GEMINI_BASE_URL", "gemini_base_url"),
        description="Override the Gemini API host.",
    )
    vertex_base_url: str | None = Field(
        None, validation_alias=AliasChoices("GOOGLE_VERTEX_BASE_URL", "vertex_base_url"),
        description="Override the Vertex AI host.",
    )
    reve_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("REVE_API_KEY", "reve_api_key"), description="Reve key."
    )
    openai_base_url: str | None = Field(
        None, description="An OpenAI-compatible model server of your own (Ollama http://localhost:11434/v1, "
                          "llama.cpp's llama-server http://localhost:8080/v1, vLLM, LM Studio): it writes the story "
                          "and plans the calls, the local backends do the rest (the openai family).")
    openai_model: str | None = Field(None, description="The model the OpenAI-compatible server runs, e.g. llama3.2.")
    openai_api_key: SecretStr | None = Field(
        None, description="The OpenAI-compatible server's key, when it asks for one (most local servers do not).")
    openai_vision: bool = Field(
        False, description="The OpenAI-compatible server's model sees pictures: it describes trailer frames and "
                           "checks continuity too.")
    openai_own_server: bool = Field(
        False, description="The OpenAI-compatible server at a public host name is yours, and free to use: without "
                           "this, only loopback, private and local-network hosts are taken (Director keeps no "
                           "prices for hosted APIs, so it does not spend there unpriced).")
    database_url: SecretStr | None = Field(
        None, description="Where the catalog, checkpoints, events and leases live: the workspace's director.db "
                          "(SQLite) when unset, or a postgresql:// URL shared by every process (the cluster extra).")
    assets_url: str | None = Field(
        None, description="Where assets live: the workspace's assets/ folder when unset, a file:// folder on a "
                          "shared volume, or s3://bucket/prefix (credentials from the usual AWS_* variables).")
    assets_cache_mb: int = Field(
        2048, ge=16, description="Local read cache for assets on s3:// (least recently used files go first).")
    ray_address: str | None = Field(
        None, description="Send each tool call to this Ray cluster as a task, with cluster-wide rate limits "
                          "and budgets (the cluster extra); 'auto' joins the cluster this machine is part of.")
    executor: Literal["local", "ray"] = Field(
        "local", description="Where tool calls run: threads of this process, or Ray tasks (--executor ray; "
                             "set by DIRECTOR_RAY_ADDRESS, and joins the local cluster when that is unset).")

    def ray(self) -> str | None:
        """The Ray cluster tool calls go to, if any."""
        return self.ray_address or ("auto" if self.executor == "ray" else None)
    media_root: Path | None = Field(
        None, description="DIRECTOR_MEDIA_ROOT: the one folder whose files `director serve` takes by path (trailer "
                          "sources, music); unset, the HTTP face takes uploads only.")
    upload_mb: int = Field(2048, ge=1, le=65536, description="Largest upload `director serve` takes, in MB.")
    token: SecretStr | None = Field(
        None, description="DIRECTOR_TOKEN: the bearer token `director serve` requires; needed to bind past loopback."
    )
    mcp_token: SecretStr | None = Field(
        None, description="DIRECTOR_MCP_TOKEN: a bearer token that opens /mcp on `director serve` and nothing else, "
                          "for an assistant (DIRECTOR_TOKEN opens everything, the HTTP API included).")
    reve_base_url: str = Field(
        "https://api.reve.com", validation_alias=AliasChoices("REVE_BASE_URL", "reve_base_url"),
        description="Reve API host.",
    )
    rate_limits_json: dict[str, float] = Field(
        default_factory=dict,
        validation_alias=AliasChoices("GEMINI_RATE_LIMITS", "rate_limits_json"),
        description="Requests per minute by model, e.g. {\"gemini-nano-banana-2.1\": 10}.",
    )
    imagen_rate_limits_json: dict[str, float] = Field(
        default_factory=dict, validation_alias=AliasChoices("IMAGEN_RATE_LIMITS", "imagen_rate_limits_json"),
        description="Requests per minute for Imagen models.",
    )
    veo_rate_limits_json: dict[str, float] = Field(
        default_factory=dict, validation_alias=AliasChoices("VEO_RATE_LIMITS", "veo_rate_limits_json"),
        description="Requests per minute for Veo models.",
    )
    lyria_rate_limits_json: dict[str, float] = Field(
        default_factory=dict, validation_alias=AliasChoices("LYRIA_RATE_LIMITS", "lyria_rate_limits_json"),
        description="Requests per minute for Lyria models.",
    )

    @field_validator("rate_limits_json", "imagen_rate_limits_json", "veo_rate_limits_json", "lyria_rate_limits_json",
                     "vertex_locations", mode="before")
    @classmethod
    def _parse_limits(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(f"must be JSON like {{\"model-id\": value}}: {exc.msg}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and value.get_secret_value():
            scheme = value.get_secret_value().split(":", 1)[0].lower()
            if scheme not in ("sqlite", "postgresql", "postgres", "postgresql+psycopg"):
                raise ValueError(f"DIRECTOR_DATABASE_URL must be a postgresql:// or sqlite:/// URL, not {scheme}://")
        return value or None

    @field_validator("assets_url")
    @classmethod
    def _known_store(cls, value: str | None) -> str | None:
        if value:
            scheme = value.split("://", 1)[0].lower() if "://" in value else ""
            if scheme not in ("file", "s3"):
                raise ValueError(f"DIRECTOR_ASSETS_URL must be a file:///shared/folder or s3://bucket/prefix URL, "
                                 f"not {value.split('?')[0]!r}")
        return value or None

    def has_gemini_key(self) -> bool:
        return bool(self.gemini_api_key and self.gemini_api_key.get_secret_value())

    def secrets(self) -> list[str]:
        """Every secret value, so outputs can be checked against them."""
        values = [s.get_secret_value() for s in (self.gemini_api_key, self.reve_api_key, self.token,
                                                 self.database_url) if s and s.get_secret_value()]
        if self.database_url is not None:  # a password inside the URL is a secret of its own
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                password = make_url(self.database_url.get_secret_value()).password
            except ArgumentError:
                password = None
            values += [str(password)] if password else []
        return values

    def model_post_init(self, context: Any) -> None:
        from director.secrets import register

        register(*self.secrets())

    def redact(self, text: str) -> str:
        """`text` with every secret value, and anything shaped like a credential, replaced by ***."""
        from director.secrets import register, scrub

        register(*self.secrets())
        return scrub(text)

    @classmethod
    def secret_fields(cls) -> set[str]:
        """The names of the settings that hold secrets (keys, the token, the database URL)."""
        return {name for name, f in cls.model_fields.items() if f.annotation in (SecretStr, SecretStr | None)}

    def public_dict(self) -> dict[str, object]:
        """Settings safe to write into a manifest: no secrets, paths as strings."""
        secret_fields = self.secret_fields()
        data = self.model_dump(mode="json", exclude=secret_fields)
        for name in secret_fields:
            data[name] = "set" if getattr(self, name) else None
        return data

    def file_config(self) -> dict[str, Any]:
        """$DIRECTOR_HOME/config.toml, or {} when absent."""
        path = self.home / "config.toml"
        if not path.is_file():
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, OSError) as exc:
            raise ConfigError(f"cannot read {path}: {exc}") from exc

    def rate_limits(self) -> dict[str, float]:
        """Requests per minute by model: config.toml [rate_limits], overridden by *_RATE_LIMITS env."""
        merged: dict[str, float] = {}
        for name, rpm in (self.file_config().get("rate_limits") or {}).items():
            merged[str(name)] = float(rpm)
        for env in (self.rate_limits_json, self.imagen_rate_limits_json, self.veo_rate_limits_json,
                    self.lyria_rate_limits_json):
            merged.update({k: float(v) for k, v in env.items()})
        for model, rpm in merged.items():
            if rpm <= 0:
                raise ConfigError(f"rate limit for {model} must be a positive number of requests per minute")
        return merged


RETIRED_SETTINGS = {
    "DIRECTOR_IMAGEN_MODEL": "Imagen is shut down (every Imagen model, on the Gemini API and on Vertex, since "
                             "2026-08-17); unset DIRECTOR_IMAGEN_MODEL and draw with DIRECTOR_IMAGE_MODEL "
                             "(default gemini-nano-banana-2.1, served on both)",
}
"""Settings that named something Google no longer serves: one line each, instead of being ignored."""


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; a bad value is a ConfigError naming it, not a traceback."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    for name, why in RETIRED_SETTINGS.items():
        if os.environ.get(name):
            raise ConfigError(why)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"bad setting {where}: {first['msg'].removeprefix('Value error, ')}") from None
    except SettingsError as exc:
        raise ConfigError(f"bad setting: {exc}") from None
