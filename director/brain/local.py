"""The local brain: a rule policy that fills in what the storyboard lacks.

Order: story; then every missing image and narration (one batch, they do not
depend on each other); then every missing clip; then assembly. Scenes whose
last attempt failed are left alone, and the run gives up naming them once
nothing else can move.
"""

from __future__ import annotations

from typing import Any

from director.brain import Decision, last_results, summarize
from director.state import DirectorState, ToolCall


class LocalBrain:
    name = "local"
    model = "rule-policy-v1"

    def decide(self, state: DirectorState) -> Decision:
        step = len(state.messages)
        counter = iter(range(1, 10_000))

        def call(name: str, **args: Any) -> ToolCall:
            return ToolCall(id=f"s{step}.{next(counter)}", name=name, args=args)

        goal, board = state.goal, state.storyboard
        failed_now = {r.name: r.error for r in last_results(state) if not r.ok}
        if board is None:
            if "write_story" in failed_now:
                return Decision(give_up=f"write_story failed: {failed_now['write_story']}")
            return Decision(calls=[call("write_story", goal=goal.text, scenes=goal.scenes)],
                            say=f"Writing a {goal.scenes}-scene story.")

        live = [s for s in board.scenes if not s.error]
        batch = [call("create_image", scene=s.index, prompt=s.image_prompt, aspect=goal.aspect)
                 for s in live if s.image is None]
        batch += [call("narrate", scene=s.index, text=s.narration, voice=goal.voice)
                  for s in live if s.audio is None]
        if batch:
            return Decision(calls=batch, say=summarize(batch))
        batch = [call("animate_image", scene=s.index, aspect=goal.aspect)
                 for s in live if s.clip is None]
        if batch:
            return Decision(calls=batch, say=summarize(batch))

        broken = [s for s in board.scenes if s.error]
        if broken:
            reasons = "; ".join(f"scene {s.index}: {s.error}" for s in broken)
            return Decision(give_up=f"{len(broken)} of {len(board.scenes)} scenes failed ({reasons})")
        if board.final is None:
            if "assemble_video" in failed_now:
                return Decision(give_up=f"assemble_video failed: {failed_now['assemble_video']}")
            return Decision(calls=[call("assemble_video", aspect=goal.aspect)], say="Assembling the final cut.")
        return Decision(done=True, say=f"Finished “{board.title}”: {len(board.scenes)} scenes.")

