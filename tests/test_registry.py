"""Tools say what they are and backends come from a registry: nothing central names them."""

from __future__ import annotations

from pathlib import Path

import pytest
from director.tools import registry
from PIL import Image

from director.backends import REGISTRY, build_providers, provider
from director.config import load_settings
from director.errors import ConfigError


def test_each_part_has_one_usual_maker_per_mode():
    tools = registry()
    for mode in ("story", "trailer"):
        makers: dict[str, list[str]] = {}
        for t in tools.values():
            if mode in t.usual_for:
                for part in t.writes:
                    makers.setdefault(part, []).append(t.name)
        assert all(len(names) == 1 for names in makers.values()), (mode, makers)
        assert {"image", "audio", "clip"} <= set(makers), (mode, makers)
    assert makers["image"] == ["edit_image"]  # a trailer's stills are its frames, restyled


def test_gated_tools_are_the_paid_media_after_the_stills():
    gated = {t.name for t in registry().values() if t.gated}
    assert gated == {"narrate", "animate_image", "make_music", "assemble_video"}


class Painter:
    """A new image provider, as a plugin would add it: one class and one registry entry."""

    name, model = "test-painter", "flat-v1"
    paid = False  # it draws on this machine: no price, no budget

    def create_image(self, prompt: str, *, width: int, height: int, seed: int, out: Path) -> None:
        Image.new("RGB", (width, height), (seed % 256, 90, 160)).save(out)


def test_a_new_provider_is_one_registry_entry(monkeypatch, tmp_path):
    monkeypatch.setitem(REGISTRY, ("image", "test-painter"), lambda wiring: Painter())
    monkeypatch.setenv("DIRECTOR_IMAGE_BACKEND", "test-painter")
    providers = build_providers(load_settings(), "local", None)
    assert providers.backends.describe()["image"] == {"backend": "test-painter", "model": "flat-v1"}
    assert providers.backends.describe()["voice"]["backend"] == "local"

    from director.api import Director

    run = Director(tmp_path / "ws", backend="local").submit("a 1-scene story about a fox", scenes=1, motion="still")
    assert run.status == "done"
    manifest = run.manifest()
    assert manifest["backends"]["image"] == {"backend": "test-painter", "model": "flat-v1"}


def test_an_unknown_provider_is_one_line_naming_the_choices(monkeypatch):
    monkeypatch.setenv("DIRECTOR_MOTION_BACKEND", "sora")
    with pytest.raises(ConfigError) as caught:  # checked where the registry is, when a run's providers are chosen
        build_providers(load_settings(), "local", None)
    assert str(caught.value) == "DIRECTOR_MOTION_BACKEND: 'sora' is not a motion provider; use one of: local, omni, veo"


def test_the_registry_decorator_registers(monkeypatch):
    monkeypatch.setattr("director.backends.REGISTRY", dict(REGISTRY))
    from director import backends

    @provider("voice", "test-voice")
    def build(wiring):  # pragma: no cover - never built here
        raise AssertionError

    assert backends.REGISTRY[("voice", "test-voice")] is build
    assert "test-voice" in backends.provider_names("voice")
