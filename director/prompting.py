"""The one way prompts are rendered: files in director.prompts, Jinja with strict undefined."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

from jinja2 import Environment, StrictUndefined, UndefinedError

from director.errors import ConfigError

_env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=64)
def _source(name: str) -> str:
    resource = files("director.prompts").joinpath(name)
    if not resource.is_file():
        raise ConfigError(f"prompt {name!r} is not in the installed prompts ({', '.join(prompt_names())})")
    return resource.read_text(encoding="utf-8")


def render(name: str, **variables: object) -> str:
    """Render prompts/<name> with the given variables; a missing variable is an error."""
    try:
        return _env.from_string(_source(name)).render(**variables).strip()
    except UndefinedError as exc:
        raise ConfigError(f"prompt {name!r} needs a variable that was not given: {exc.message}") from exc


def prompt_names() -> list[str]:
    """Every prompt file shipped with the package, e.g. 'story.md', 'styles/diorama.md'."""
    root = files("director.prompts")
    names: list[str] = []
    for entry in root.iterdir():
        if entry.is_file() and entry.name.endswith((".md", ".j2")):
            names.append(entry.name)
        elif entry.is_dir() and entry.name == "styles":
            names.extend(f"styles/{e.name}" for e in entry.iterdir() if e.name.endswith((".md", ".j2")))
    return sorted(names)
