"""mix_sound: mix and encode the whole sound track before the clips are done.

The sound depends only on the narration (or the source windows) and the
scene lengths, never on the pictures. Mixing it while the clips render
leaves assemble_video nothing to encode: it finds the track in the cache
(<workspace>/cache/sound, keyed by the hash of its inputs) and joins by
copy. Optional: assemble_video mixes the track itself when it is missing.
"""

from __future__ import annotations

from director.tools.assemble_video import scene_inputs
from pydantic import BaseModel, Field

from director.choices import AudioMode
from director.mixing import plan_sound
from director.state import DirectorState
from director.tooling import ToolContext, tool


class MixSoundInput(BaseModel):
    audio: AudioMode = Field(
        "narration", description="Sound: narration, the source videos' own audio (trailers), or mix (source ducked under narration)."
    )


class MixSoundOutput(BaseModel):
    seconds: float = Field(description="Length of the sound track, which is the length of the cut.")
    scenes: int = Field(description="Scenes in the track.")


def _needs(args: MixSoundInput, state: DirectorState) -> dict[str, object]:
    return scene_inputs(state, args.audio, clips=False)


@tool(capability=None, version="1", needs=_needs, renders=True,
      reads=("story", "audio", "transcript", "music"), writes=("sound",))
def mix_sound(args: MixSoundInput, ctx: ToolContext) -> MixSoundOutput:
    """Mix the sound track of the whole cut once every scene has its narration (or source window), so assemble_video only has to join. Optional; it can run while the clips are being made."""
    plan = plan_sound(ctx.inputs, ctx.store, ctx.settings.fps)
    plan.track(ctx.store.workspace)
    return MixSoundOutput(seconds=round(plan.seconds, 3), scenes=len(plan.lengths))
