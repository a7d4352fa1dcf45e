"""The local brain: a rule policy that fills in what the storyboard lacks.

Stories: the story; then one batch with every missing image, narration and
clip, the sound mix and the assembly. The runner orders that batch by what each call reads
and writes, so a scene's clip starts as soon as its own image and narration
exist, while other scenes are still drawing. With --approve the stills come
first, alone, and the rest waits for the gate.
Trailers: shots and transcripts of every source; the plan; frames; a styled
description per frame; a restyled frame (and narration) per scene; clips;
assembly. Scenes whose last attempt failed are left alone, and the run gives
up naming them once nothing else can move.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from director.brain import Decision, last_results, summarize
from director.state import DirectorState, Storyboard, ToolCall

Call = Callable[..., ToolCall]


class LocalBrain:
    name = "local"
    model = "rule-policy-v2"

    def decide(self, state: DirectorState) -> Decision:
        step = len(state.messages)
        counter = iter(range(1, 10_000))

        def call(name: str, **args: Any) -> ToolCall:
            return ToolCall(id=f"s{step}.{next(counter)}", name=name, args=args)

        failed_now = {r.name: r.error for r in last_results(state) if not r.ok}
        last = state.messages[-1] if state.messages else None
        if last is not None and last.role == "user" and last.intent == "revision" and state.storyboard is not None:
            return self._revise(state, call, last.text)
        if "revise_storyboard" in failed_now:
            return Decision(done=True, say=f"I could not make that change: {failed_now['revise_storyboard']}")
        if state.goal.mode == "trailer":
            return self._trailer(state, call, failed_now)
        return self._story(state, call, failed_now)

    def _revise(self, state: DirectorState, call: Call, message: str) -> Decision:
        from director.errors import InputError
        from director.revisions import HELP, parse

        assert state.storyboard is not None
        try:
            args = parse(message, state.storyboard)
        except InputError as exc:
            return Decision(done=True, say=f"I can't do that: {exc}.")
        if args is None:
            return Decision(done=True, say=f"I can't do that offline. {HELP}")
        return Decision(calls=[call("revise_storyboard", **args)], say="Revising the storyboard.")

    def _story(self, state: DirectorState, call: Call, failed_now: dict[str, str | None]) -> Decision:
        goal, board = state.goal, state.storyboard
        if board is None:
            if "write_story" in failed_now:
                return Decision(give_up=f"write_story failed: {failed_now['write_story']}")
            return Decision(calls=[call("write_story", goal=goal.text, scenes=goal.scenes,
                                        **({"seconds": goal.duration} if goal.duration else {}))],
                            say=f"Writing a {goal.scenes}-scene story.")
        live = [s for s in board.scenes if not s.errors]
        # Reference sheets first, for the characters and places of scenes still to draw: every still
        # is drawn from them. One that fails is left out, and those scenes are drawn from the words alone.
        drawing = {s.index for s in live if s.image is None}
        wanted = ({c.name for i in drawing for c in board.cast_of(i)}
                  | {p.name for i in drawing for p in board.places_of(i)})
        batch = [] if "draw_character" in failed_now else [
            call("draw_character", character=m.name) for m in board.members()
            if m.sheet is None and m.name in wanted]
        if batch:  # in a turn of their own (with the voices), so a sheet that fails holds no still back
            hold = awaiting_approval(state)
            batch += [] if hold else [narrate(call, state, s.index, s.narration) for s in live if s.audio is None]
            return Decision(calls=batch, say=summarize(batch))
        sheets = {c.name for c in board.characters if c.sheet is not None}
        checking = goal.continuity > 0 and "check_continuity" not in failed_now

        def checked(index: int) -> bool:
            """Whether a scene's still is checked against its characters' sheets before it moves."""
            return checking and any(c.name in sheets for c in board.cast_of(index))

        ready: set[int] = set()
        for s in live:
            if s.image is None:
                batch.append(call("create_image", scene=s.index, prompt=s.image_prompt, aspect=aspect(state)))
                if checked(s.index):
                    batch.append(call("check_continuity", scene=s.index))
                else:
                    ready.add(s.index)  # its clip follows the still in this turn
            elif s.clip is None and checked(s.index):
                verdict = s.continuity if s.continuity and s.continuity.image == s.image.sha256 else None
                if verdict is None:
                    batch.append(call("check_continuity", scene=s.index))
                elif not verdict.passed and s.retakes < goal.retakes:
                    batch.append(call("create_image", scene=s.index, prompt=s.image_prompt, aspect=aspect(state),
                                      fix="; ".join(verdict.reasons) or f"it scored {verdict.score:.2f}"))
                    batch.append(call("check_continuity", scene=s.index))
                else:
                    ready.add(s.index)  # passed, or kept after its redraws
            else:
                ready.add(s.index)
        if not checking:  # nothing waits for a check: a clip starts as soon as its still exists
            ready = {s.index for s in live}
        hold = bool(drawing) and awaiting_approval(state)  # with --approve the stills come first, alone
        if not hold:
            batch += [narrate(call, state, s.index, s.narration) for s in live if s.audio is None]
        return self._finish(state, call, board, batch, failed_now, hold, ready)

    def _trailer(self, state: DirectorState, call: Call, failed_now: dict[str, str | None]) -> Decision:
        goal, board = state.goal, state.storyboard
        assert board is not None, "a trailer run starts with its footage on the storyboard"
        for tool in ("detect_scenes", "transcribe", "plan_trailer"):
            if tool in failed_now:
                return Decision(give_up=f"{tool} failed: {failed_now[tool]}")
        batch = [call("detect_scenes", video=f.index) for f in board.footage if f.shots is None]
        batch += [call("transcribe", video=f.index) for f in board.footage if f.transcript is None]
        if batch:
            return Decision(calls=batch, say=f"Finding the shots and words in {len(board.footage)} source(s).")
        if not board.scenes:
            return Decision(calls=[call("plan_trailer", max_scenes=goal.scenes)], say="Choosing the shots.")
        live = [s for s in board.scenes if not s.errors]
        by_video: dict[int, list[int]] = defaultdict(list)
        for s in live:
            if s.frame is None and s.source is not None and s.source.shot not in by_video[s.source.video]:
                by_video[s.source.video].append(s.source.shot)
        if by_video:
            calls = [call("extract_frames", video=v, scenes=shots) for v, shots in sorted(by_video.items())]
            return Decision(calls=calls, say="Taking a frame from each chosen shot.")
        batch = [call("describe_frame", scene=s.index, style=goal.style) for s in live if not s.image_prompt]
        if batch:
            return Decision(calls=batch, say=summarize(batch))
        # The description carries the style's words (tilt-shift, miniature, warm...): the local
        # editor turns them into operations on the real frame.
        batch = [call("edit_image", scene=s.index, instruction=s.image_prompt, picture="frame", aspect=aspect(state))
                 for s in live if s.image is None]
        hold = bool(batch) and awaiting_approval(state)
        if goal.audio in ("narration", "mix") and not hold:
            batch += [narrate(call, state, s.index, s.narration) for s in live if s.audio is None and s.narration]
        return self._finish(state, call, board, batch, failed_now, hold, {s.index for s in live})

    def _finish(self, state: DirectorState, call: Call, board: Storyboard, batch: list[ToolCall],
                failed_now: dict[str, str | None], hold: bool, ready: set[int]) -> Decision:
        """Add the clips of the `ready` scenes and the assembly to `batch` (unless held for approval);
        give up or finish."""
        goal = state.goal
        live = [s for s in board.scenes if not s.errors]
        broken = [s for s in board.scenes if s.errors]
        if not hold:
            move = {} if goal.motion == "auto" else {"motion": goal.motion}
            batch += [call("animate_image", scene=s.index, aspect=aspect(state), **move)
                      for s in live if s.clip is None and s.index in ready]
            waiting = any(s.clip is None and s.index not in ready for s in live)
            if board.final is None and not broken and not waiting and "assemble_video" not in failed_now:
                if state.finish.music != "none" and board.music is None:
                    if "make_music" in failed_now:
                        return Decision(give_up=f"make_music failed: {failed_now['make_music']}")
                    batch.append(call("make_music"))
                # The sound is mixed while the clips render, so assembly only joins.
                batch.append(call("mix_sound", audio=goal.audio))
                batch.append(call("assemble_video", aspect=aspect(state), audio=goal.audio))
        if batch:
            return Decision(calls=batch, say=summarize(batch))
        if broken:
            reasons = "; ".join(f"scene {s.index}: {s.error}" for s in broken)
            return Decision(give_up=f"{len(broken)} of {len(board.scenes)} scenes failed ({reasons})")
        if board.final is None:
            return Decision(give_up=f"assemble_video failed: {failed_now.get('assemble_video')}")
        return Decision(done=True, say=f"Finished “{board.title}”: {len(board.scenes)} scenes.")


def aspect(state: DirectorState) -> str:
    """The frame shape now: a revision's, else the goal's."""
    board = state.storyboard
    return (board.aspect if board and board.aspect else None) or state.goal.aspect


def awaiting_approval(state: DirectorState) -> bool:
    return state.goal.approve and not state.approved


def narrate(call: Call, state: DirectorState, scene: int, text: str) -> ToolCall:
    board = state.storyboard
    voice = (board.voice if board and board.voice else None) or state.goal.voice
    pace = board.pace if board else 1.0
    return call("narrate", scene=scene, text=text, voice=voice, **({"pace": pace} if pace != 1.0 else {}))
