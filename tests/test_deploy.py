"""deploy/: the compose file cannot be run here (no container engine), so its shape is checked:
the roles are there, every Director setting it names exists, and every command it runs is a
real `director` command with real flags."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from director.config import Settings
from tests.helpers import run_cli

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def known_settings() -> set[str]:
    names = {f"DIRECTOR_{name.upper()}" for name in Settings.model_fields}
    for field in Settings.model_fields.values():
        for alias in getattr(field.validation_alias, "choices", None) or ():
            names.add(str(alias))
    return names


def test_the_compose_file_has_every_role_and_only_real_settings():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "minio", "ray-head", "worker", "serve-a", "serve-b"} <= set(services)
    assert services["worker"]["deploy"]["replicas"] == 2
    named = set(compose["x-director"]["environment"])
    named |= {line.split("=", 1)[0] for line in (DEPLOY / "director.env.example").read_text().splitlines()
              if line and not line.startswith("#")}
    ours = {n for n in named if n.startswith(("DIRECTOR_", "GEMINI_", "GOOGLE_"))}
    assert ours and ours <= known_settings(), ours - known_settings()
    for needed in ("DIRECTOR_DATABASE_URL", "DIRECTOR_ASSETS_URL", "DIRECTOR_RAY_ADDRESS"):
        assert needed in named


def test_every_director_command_in_it_is_real(capsys):
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    commands = [shlex.split(s["command"]) for s in compose["services"].values()
                if str(s.get("command", "")).startswith("director ")]
    assert len(commands) == 3
    for argv in commands:
        result = run_cli(capsys, argv[1], "--help")
        assert result.code == 0, result.err
        for flag in (a for a in argv[2:] if a.startswith("--")):
            assert re.search(rf"{re.escape(flag)}\b", result.out), (argv, flag)
