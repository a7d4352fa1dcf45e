"""The runner turns model mistakes into observations, and memoises by inputs."""

from __future__ import annotations

import pytest
from director.tools import registry

from director.api import Director
from director.brain.local import LocalBrain
from director.call_batch import fold
from director.runner import Runner
from director.state import DirectorState, Goal, Message, ToolCall


@pytest.fixture
def runner(workspace):
    director = Director(workspace=workspace, backend="local")
    session = director.lifecycle._session("local")
    return Runner(settings=director.settings, backends=session.backends, store=session.store,
                  catalog=session.catalog, tools=registry())


def state_with_story(runner: Runner, scenes: int = 2, continuity: float = 0.0) -> DirectorState:
    """A written story. The continuity check is off unless asked for: with it, a scene's clip waits
    for the check of its still, a turn later."""
    state = DirectorState(run_id="t", goal=Goal(text="a cat and a dog in the garden", scenes=scenes,
                                                continuity=continuity))
    call = ToolCall(id="1", name="write_story", args={"goal": state.goal.text, "scenes": scenes})
    [result] = runner.run_batch(state, [call], lambda e: None)
    assert result.ok, result.error
    state = state.model_copy(update={"storyboard": fold(None, [call], [result], runner.tools)})
    # The reference sheets come first, in a turn of their own (with the voices): draw them here.
    sheets = [c for c in LocalBrain().decide(state).calls if c.name == "draw_character"]
    assert sheets
    results = runner.run_batch(state, sheets, lambda e: None)
    assert all(r.ok for r in results), [r.error for r in results]
    return state.model_copy(update={"storyboard": fold(state.storyboard, sheets, results, runner.tools)})


def run(runner: Runner, state: DirectorState, name: str, **args):
    [result] = runner.run_batch(state, [ToolCall(id="x", name=name, args=args)], lambda e: None)
    return result


def test_unknown_tool_is_an_observation(runner):
    state = state_with_story(runner)
    result = run(runner, state, "make_it_pop", scene=1)
    assert not result.ok and "unknown tool 'make_it_pop'" in result.error and "create_image" in result.error


def test_malformed_arguments_are_an_observation(runner):
    state = state_with_story(runner)
    result = run(runner, state, "create_image", scene="two", prompt="x", aspect="16:9")
    assert not result.ok and result.error.startswith("bad arguments for create_image: scene:")
    result = run(runner, state, "create_image", scene=1, prompt="x", aspect="4:3")
    assert not result.ok and "aspect" in result.error


def test_a_scene_that_does_not_exist_is_an_observation(runner):
    state = state_with_story(runner, scenes=2)
    result = run(runner, state, "narrate", scene=9, text="hello")
    assert not result.ok and "there is no scene 9; the story has scenes 1..2" in result.error


def test_calls_out_of_order_are_observations(runner):
    empty = DirectorState(run_id="t", goal=Goal(text="x", scenes=1))
    assert "no story yet" in run(runner, empty, "create_image", scene=1, prompt="x", aspect="1:1").error
    state = state_with_story(runner)
    result = run(runner, state, "animate_image", scene=1, aspect="16:9")
    assert not result.ok and "has no image or narration yet" in result.error


def test_same_inputs_are_served_from_the_memo(runner):
    state = state_with_story(runner)
    first = run(runner, state, "create_image", scene=1, prompt="a cat in the garden", aspect="1:1")
    again = run(runner, state, "create_image", scene=1, prompt="a cat in the garden", aspect="1:1")
    other = run(runner, state, "create_image", scene=1, prompt="a cat on the moon", aspect="1:1")
    assert first.ok and not first.reused
    assert again.reused and again.key == first.key and again.output == first.output
    assert other.ok and not other.reused and other.key != first.key
    rows = [(c.tool, c.reused) for c in runner.catalog.run_calls("t") if c.tool == "create_image"]
    assert rows == [("create_image", False), ("create_image", True), ("create_image", False)]


def test_input_assets_are_part_of_the_key(runner):
    # The same animate_image arguments over a different still is a different call.
    state = state_with_story(runner, scenes=1)
    calls = [ToolCall(id="a", name="create_image", args={"scene": 1, "prompt": "a cat", "aspect": "1:1"}),
             ToolCall(id="b", name="narrate", args={"scene": 1, "text": "Hi."})]
    results = runner.run_batch(state, calls, lambda e: None)
    state = state.model_copy(update={"storyboard": fold(state.storyboard, calls, results, runner.tools)})
    key1 = runner.memo_key(runner.tools["animate_image"], runner.tools["animate_image"].input(scene=1, aspect="1:1"),
                           runner.tools["animate_image"].resolve(runner.tools["animate_image"].input(scene=1, aspect="1:1"), state), 0)
    redo = [ToolCall(id="c", name="create_image", args={"scene": 1, "prompt": "a dog", "aspect": "1:1"})]
    state = state.model_copy(update={"storyboard": fold(state.storyboard, redo, runner.run_batch(state, redo, lambda e: None), runner.tools)})
    args = runner.tools["animate_image"].input(scene=1, aspect="1:1")
    key2 = runner.memo_key(runner.tools["animate_image"], args, runner.tools["animate_image"].resolve(args, state), 0)
    assert key1 != key2


def test_a_lost_asset_is_made_again(runner):
    state = state_with_story(runner)
    first = run(runner, state, "create_image", scene=2, prompt="a dog", aspect="1:1")
    (runner.store.workspace.abspath(first.output["image"]["path"])).unlink()
    again = run(runner, state, "create_image", scene=2, prompt="a dog", aspect="1:1")
    assert again.ok and not again.reused
    assert runner.store.verify(runner.tools["create_image"].output.model_validate(again.output).image)


@pytest.mark.slow  # a whole run, several processes or a browser: make test, not make check
def test_new_image_invalidates_the_clip_and_the_cut(runner):
    state = state_with_story(runner, scenes=1)
    calls = [ToolCall(id="a", name="create_image", args={"scene": 1, "prompt": "a cat", "aspect": "1:1"}),
             ToolCall(id="b", name="narrate", args={"scene": 1, "text": "Hi."})]
    board = fold(state.storyboard, calls, runner.run_batch(state, calls, lambda e: None), runner.tools)
    anim = [ToolCall(id="c", name="animate_image", args={"scene": 1, "aspect": "1:1"})]
    state = state.model_copy(update={"storyboard": board})
    board = fold(board, anim, runner.run_batch(state, anim, lambda e: None), runner.tools)
    assert board.scene(1).clip is not None
    redo = [ToolCall(id="d", name="create_image", args={"scene": 1, "prompt": "a cat at night", "aspect": "1:1"})]
    state = state.model_copy(update={"storyboard": board})
    board = fold(board, redo, runner.run_batch(state, redo, lambda e: None), runner.tools)
    assert board.scene(1).clip is None and board.scene(1).image_prompt == "a cat at night"


def test_brain_batches_independent_calls_then_gives_up_on_failed_scenes(runner):
    state = state_with_story(runner, scenes=3)
    decision = LocalBrain().decide(state)
    names = sorted(c.name for c in decision.calls)
    assert names == ["animate_image"] * 3 + ["assemble_video"] + ["create_image"] * 3 + ["mix_sound"] + \
        ["narrate"] * 3
    assert len({c.id for c in decision.calls}) == 11
    # The runner orders the batch by what each call reads and writes.
    deps = runner.depends(decision.calls)
    label = {c.id: (c.name, c.args.get("scene")) for c in decision.calls}
    for c in decision.calls:
        wants = sorted(label[d] for d in deps[c.id])
        if c.name in ("create_image", "narrate"):
            assert wants == [], c
        elif c.name == "animate_image":
            assert wants == [("create_image", c.args["scene"]), ("narrate", c.args["scene"])]
        elif c.name == "mix_sound":  # the sound waits for the voices only, not for any picture
            assert sorted(n for n, _ in wants) == ["narrate"] * 3
        else:
            assert sorted(n for n, _ in wants) == \
                ["animate_image"] * 3 + ["create_image"] * 3 + ["mix_sound"] + ["narrate"] * 3
    board = state.storyboard.model_copy(deep=True)
    board.scene(2).errors["image"] = "create_image: blocked"
    decision = LocalBrain().decide(state.model_copy(update={"storyboard": board}))
    assert all(c.args.get("scene") != 2 for c in decision.calls)
    for s in board.scenes:  # pretend everything else finished
        if s.index != 2:
            s.image = s.audio = s.clip = board.scene(1).image or _ref()
    decision = LocalBrain().decide(state.model_copy(update={"storyboard": board, "messages": [Message(role="tool")]}))
    assert decision.give_up and "scene 2: create_image: blocked" in decision.give_up


def _ref():
    from director.state import AssetRef

    return AssetRef(sha256="0" * 64, kind="image", path="assets/00/x.png", bytes=1)


class _Gated:
    """Wraps a backend: calls whose prompt holds `marker` wait for `event` (and record whether it came)."""

    def __init__(self, inner, marker: str, event, seen: list) -> None:
        self.inner, self.marker, self.event, self.seen = inner, marker, event, seen
        self.name, self.model = inner.name, inner.model

    def create_image(self, prompt: str, **kwargs):
        if self.marker in prompt:
            self.seen.append(self.event.wait(timeout=120))
        return self.inner.create_image(prompt, **kwargs)


class _Signals:
    def __init__(self, inner, event) -> None:
        self.inner, self.event = inner, event
        self.name, self.model = inner.name, inner.model

    def animate(self, *args, **kwargs):
        out = self.inner.animate(*args, **kwargs)
        self.event.set()
        return out


def test_a_slow_scene_does_not_hold_the_others(runner, fast):
    """Scene 2's picture is held back until another scene's clip exists: with a barrier between
    stages (all stills, then all clips) that clip could never come first and the wait would time out."""
    import dataclasses
    import threading

    from director.config import load_settings

    runner.settings = load_settings()  # the fast fixture's fps/preset
    clip_made, seen = threading.Event(), []
    state = state_with_story(runner, scenes=3)
    board = state.storyboard.model_copy(deep=True)
    board.scene(2).image_prompt += " SLOW-SCENE"
    state = state.model_copy(update={"storyboard": board})
    runner.backends = dataclasses.replace(
        runner.backends, image=_Gated(runner.backends.image, "SLOW-SCENE", clip_made, seen),
        motion=_Signals(runner.backends.motion, clip_made))
    events: list[dict] = []
    calls = LocalBrain().decide(state).calls
    results = runner.run_batch(state, calls, events.append)
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert seen == [True]  # a clip was made while scene 2 was still drawing
    finished = [e["label"] for e in events if e["type"] == "tool_finished"]
    assert finished[-1] == "assemble_video"
    board = fold(state.storyboard, calls, results, runner.tools)
    assert board.final is not None and all(s.clip for s in board.scenes)


def test_a_failed_call_skips_what_depends_on_it_and_nothing_else(runner, fast):
    from director.config import load_settings

    runner.settings = load_settings()
    state = state_with_story(runner, scenes=3)
    calls = LocalBrain().decide(state).calls
    for c in calls:
        if c.name == "narrate" and c.args.get("scene") == 2:
            c.args["voice"] = "no-such-voice"
    results = {(r.name, (c.args.get("scene"))): r for c, r in zip(calls, runner.run_batch(state, calls, lambda e: None))}
    assert not results[("narrate", 2)].ok
    assert results[("animate_image", 2)].error == "not run: narrate scene 2 failed first"
    assert results[("assemble_video", None)].error.startswith("not run: ")
    assert all(results[(t, k)].ok for t in ("create_image", "narrate", "animate_image") for k in (1, 3))
    assert results[("create_image", 2)].ok
    board = fold(state.storyboard, calls, list(results.values()), runner.tools)
    decision = LocalBrain().decide(state.model_copy(update={"storyboard": board}))
    assert decision.give_up and "scene 2" in decision.give_up and "no-such-voice" in decision.give_up


def test_clips_in_another_format_are_normalised_once_and_cached(runner, fast, monkeypatch):
    """Veo-like clips (24 fps, another size) become cached segments; a change to one scene
    re-encodes only that scene's segment, and the others are joined as they are."""
    import director.tools.assemble_video as assemble

    from director.config import load_settings
    from director.media import probe, run_ffmpeg, scene_length

    runner.settings = load_settings()
    state = state_with_story(runner, scenes=3)
    board = state.storyboard.model_copy(deep=True)
    for s in board.scenes:
        clip, wav = runner.store.temp_path(".mp4"), runner.store.temp_path(".wav")
        run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=24:duration=4,hue=h={60 * s.index}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)], what="clip")
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={300 + 100 * s.index}:duration=2", str(wav)], what="tone")
        s.clip, s.audio = runner.store.put(clip, "video"), runner.store.put(wav, "audio")
    calls: list[str] = []
    real = assemble.normalise
    monkeypatch.setattr(assemble, "normalise", lambda src, *a, **k: (calls.append(src.name), real(src, *a, **k)))
    import director.mixing as mixing

    mixes: list[str] = []
    real_run = assemble.run_ffmpeg
    for module in (assemble, mixing):  # the cut's own ffmpeg runs, and the sound track's
        monkeypatch.setattr(module, "run_ffmpeg",
                            lambda args, what, **kw: (mixes.append(what), real_run(args, what=what, **kw))[1])
    mixed = run(runner, state.model_copy(update={"storyboard": board}), "mix_sound")
    assert mixed.ok and mixed.output["scenes"] == 3 and mixes == ["mix the sound track"]
    first = run(runner, state.model_copy(update={"storyboard": board}), "assemble_video", aspect="16:9")
    assert first.ok, first.error
    assert len(calls) == 3 and "mix the sound track" not in mixes[1:]  # mix_sound made it already
    segments = sorted((runner.store.workspace.cache_dir / "segments").rglob("*.mp4"))
    assert len(segments) == 3 and all(probe(p).fps == 12 for p in segments)
    wav = runner.store.temp_path(".wav")
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=900:duration=3", str(wav)], what="tone")
    board.scene(2).audio = runner.store.put(wav, "audio")  # a longer line: scene 2 gets longer
    calls.clear()
    second = run(runner, state.model_copy(update={"storyboard": board}), "assemble_video", aspect="16:9")
    assert second.ok, second.error
    assert calls == [runner.store.path(board.scene(2).clip).name]
    final = probe(runner.store.workspace.abspath(second.output["video"]["path"]))
    assert abs(final.duration - (2 * scene_length(2.0, 12) + scene_length(3.0, 12))) < 0.1
    assert (final.width, final.height, final.fps) == (1280, 720, 12)
    tracks = sorted((runner.store.workspace.cache_dir / "sound").rglob("*.m4a"))
    assert len(tracks) == 2  # the new line changed the sound, so it was mixed again
    # A new picture for scene 3: its segment is made; the sound is the cached one.
    clip = runner.store.temp_path(".mp4")
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=24:duration=4,negate", "-c:v", "libx264",
                "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)], what="clip")
    board.scene(3).clip = runner.store.put(clip, "video")
    calls.clear()
    mixes.clear()
    third = run(runner, state.model_copy(update={"storyboard": board}), "assemble_video", aspect="16:9")
    assert third.ok, third.error
    assert calls == [runner.store.path(board.scene(3).clip).name]
    assert "mix the sound track" not in mixes and sorted((runner.store.workspace.cache_dir / "sound").rglob("*.m4a")) == tracks
    check = probe(runner.store.workspace.abspath(third.output["video"]["path"]))
    assert check.audio_codec == "aac" and abs(check.duration - final.duration) < 0.05


def test_goal_motion_reaches_every_clip(runner):
    state = state_with_story(runner, scenes=2)
    state = state.model_copy(update={"goal": state.goal.model_copy(update={"motion": "still"})})
    anim = [c for c in LocalBrain().decide(state).calls if c.name == "animate_image"]
    assert [c.args.get("motion") for c in anim] == ["still", "still"]
    from director.tools.animate_image import AnimateImageInput, _estimate

    from director.prices import Prices

    held = AnimateImageInput(scene=1, aspect="16:9", motion="still")
    assert _estimate(held, {"speech_seconds": 3.0}, "veo-3.1-generate-001", Prices()) == 0.0
    moving = AnimateImageInput(scene=1, aspect="16:9")
    # 3 s of speech is a 3.8 s scene: at 720p Veo is asked for (and bills) 4 s of video without sound, at $0.20/s;
    # at its own 1080p every clip is 8 s; with its sound kept, twice the rate.
    at_720 = {"speech_seconds": 3.0, "resolution": "720p"}
    assert _estimate(moving, at_720, "veo-3.1-generate-001", Prices()) == pytest.approx(0.8)
    assert _estimate(moving, {"speech_seconds": 3.0}, "veo-3.1-generate-001", Prices()) == pytest.approx(1.6)
    assert _estimate(moving, {**at_720, "clip_sound": "keep"}, "veo-3.1-generate-001", Prices()) == pytest.approx(1.6)
    # Omni bills the seconds it delivers, sound always included: a 4 s clip at 720p.
    assert _estimate(moving, at_720, "gemini-omni-1.2-flash", Prices()) == pytest.approx(4 * 0.1014)


def test_a_plan_that_goes_in_circles_stops_with_its_reason(runner):
    """A brain that asks for the same batch again and again, each time served from the memo, is stopped after three
    such turns with a reason, not at the step limit (two characters of one name did that before they were renamed)."""
    from langgraph.checkpoint.memory import InMemorySaver

    from director.brain import Decision
    from director.graph import build_graph

    class Stuck:
        name = "local"

        def decide(self, state: DirectorState) -> Decision:
            return Decision(calls=[ToolCall(id=f"c{len(state.messages)}", name="write_story",
                                            args={"goal": "a cat and a dog", "scenes": 1})], say="once more")

    graph = build_graph(brain=Stuck(), runner=runner, finish=lambda state: {"status": state.status},  # type: ignore[arg-type]
                        checkpointer=InMemorySaver())
    out = graph.invoke(DirectorState(run_id="loop", goal=Goal(text="a cat and a dog", scenes=1)),
                       {"configurable": {"thread_id": "loop"}, "recursion_limit": 80})
    assert out["status"] == "failed" and "went round in a circle" in out["error"], out["error"]
    turns = [m for m in out["messages"] if m.role == "brain"]
    assert len(turns) == 4 and not turns[-1].calls  # made once, served twice, then stopped


def test_a_retry_after_a_failure_is_no_circle():
    from director.graph import going_round
    from director.state import ToolResult

    call = ToolCall(id="a", name="narrate", args={"scene": 1, "text": "hi"})
    failed = ToolResult(call_id="a", name="narrate", ok=False, error="timeout")
    served = ToolResult(call_id="a", name="narrate", ok=True, reused=True)
    brain, said = Message(role="brain", calls=[call]), Message(role="user", text="make it night")
    assert going_round([brain, Message(role="tool", results=[served])] * 2, [call])
    assert not going_round([brain, Message(role="tool", results=[failed])] * 2, [call])
    assert not going_round([brain, Message(role="tool", results=[served]), said, brain,
                            Message(role="tool", results=[served])], [call])
