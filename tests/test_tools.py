"""The registry, the declarations it sends to Gemini, and declaration-time checks."""

from __future__ import annotations

import pytest
from director.tools import declarations, registry
from google.genai import types
from pydantic import BaseModel, Field

from director.tooling import ToolContext, tool

SKELETON_TOOLS = {"write_story", "create_image", "narrate", "animate_image", "assemble_video"}


def test_registry_holds_the_skeleton_tools():
    assert SKELETON_TOOLS <= set(registry())


def test_declarations_are_valid_gemini_function_declarations():
    decls = declarations()
    assert {d["name"] for d in decls} == set(registry())
    for decl in decls:
        parsed = types.FunctionDeclaration.model_validate(decl)
        assert parsed.description and len(parsed.description) > 30
        schema = parsed.parameters_json_schema
        assert schema["type"] == "object"
        for name, prop in schema["properties"].items():
            assert prop.get("description"), f"{decl['name']}.{name} has no description"


def test_declaration_carries_constraints():
    schema = registry()["create_image"].declaration()["parameters_json_schema"]
    assert schema["properties"]["aspect"]["enum"] == ["16:9", "9:16", "1:1"]
    assert schema["properties"]["scene"]["minimum"] == 1
    assert set(schema["required"]) == {"scene", "prompt", "aspect"}


class _In(BaseModel):
    x: int = Field(description="a number")


class _Out(BaseModel):
    y: int = Field(description="a number")


def test_tool_without_docstring_is_refused_at_declaration():
    with pytest.raises(TypeError, match="docstring"):
        @tool(capability=None)
        def nameless(args: _In, ctx: ToolContext) -> _Out:
            return _Out(y=args.x)


class _Undescribed(BaseModel):
    x: int


def test_field_without_description_is_refused_at_declaration():
    with pytest.raises(TypeError, match="without description"):
        @tool(capability=None)
        def bad(args: _Undescribed, ctx: ToolContext) -> _Out:
            """Does a thing."""
            return _Out(y=args.x)


def test_non_model_input_is_refused_at_declaration():
    with pytest.raises(TypeError, match="pydantic model"):
        @tool(capability=None)
        def loose(args: dict, ctx: ToolContext) -> _Out:
            """Does a thing."""
            return _Out(y=1)


def test_trailer_lines_cover_any_number_of_scenes_with_nothing_to_quote():
    from director.tools.plan_trailer import lines_for

    for n in range(1, 51):
        lines = lines_for("The Film", [], [], n)
        assert len(lines) == n and lines[-1].startswith("The Film")
    assert len(set(lines_for("The Film", [], [], 11))) == 11  # distinct while the generic lines last


def test_trailer_lines_fit_their_shots_and_the_title_is_its_own_phrase():
    from director.tools.plan_trailer import WORDS_PER_SECOND, lines_for

    plot = ("A giant rabbit wakes up in a meadow and stretches under the morning sun while birds sing around him. "
            "Three bullies chase a butterfly. He has a plan")
    [only] = lines_for("Big Buck Bunny", [plot], [], 1, [5.5])
    assert only == "Three bullies chase a butterfly. Big Buck Bunny."  # the long sentence would not fit 5.5 s
    lines = lines_for("Big Buck Bunny", [plot], [], 3, [2.0, 6.0, 3.0])
    assert lines[-1] == "Big Buck Bunny. Coming soon."
    for line, seconds in zip(lines[:-1], [2.0, 6.0], strict=True):
        assert len(line.split()) <= max(4, seconds * WORDS_PER_SECOND), (line, seconds)
    assert "He has a plan." in lines_for("Big Buck Bunny", ["He has a plan"], [], 1)[0]  # a sentence, then the title
