"""Assembly: the assemble_video tool (ffmpeg concat, stream copy) vs the same cut through MoviePy.

MoviePy's concatenate_videoclips + write_videofile decodes every clip and
re-encodes the whole video; the tool stream-copies normalised clips and only
encodes the audio track.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from bench.common import best_of
from director.backends import build_providers
from director.config import Settings
from director.media import run_ffmpeg, scene_length
from director.state import AssetRef, DirectorState, Goal, Scene, Storyboard
from director.store import AssetStore, Catalog, Workspace
from director.tooling import ToolContext

SCENES, SPEECH = 5, 4.0


def main() -> None:
    from director.tools.assemble_video import AssembleVideoInput, assemble_video

    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace(Path(tmp) / "ws")
        ws.prepare()
        store = AssetStore(ws, Catalog.open(ws, create=True))
        length = scene_length(SPEECH, settings.fps)
        scenes = []
        for i in range(1, SCENES + 1):
            clip, wav = store.temp_path(".mp4"), store.temp_path(".wav")
            run_ffmpeg(["-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate={settings.fps}:duration={length}",
                        "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", str(clip)], what="clip")
            run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={200 * i}:duration={SPEECH}:sample_rate=22050",
                        str(wav)], what="tone")
            scenes.append(Scene(index=i, image_prompt="", narration=f"Scene {i}.", clip=store.put(clip, "video"),
                                audio=store.put(wav, "audio")))
        # The tool's own needs() builds its inputs, as in a run, so this cannot drift from the tool.
        state = DirectorState(run_id="bench", goal=Goal(text="bench", scenes=SCENES),
                              storyboard=Storyboard(title="bench", art_style="-", scenes=scenes))
        args = AssembleVideoInput(aspect="16:9")
        ctx = ToolContext(settings=settings, backends=build_providers(settings, "local", None).backends, store=store,
                          run_id="bench", seed=0, inputs=assemble_video.resolve(args, state))
        ours = best_of(lambda: assemble_video(args, ctx))
        base = best_of(lambda: moviepy_cut([{"clip": sc.clip, "audio": sc.audio} for sc in scenes], store,
                                           Path(tmp) / "moviepy.mp4", settings), repeat=1)
    total = SCENES * length
    print(f"assemble  {SCENES} scenes, {total:.1f} s at 1280x720: ffmpeg concat {ours:.2f} s, "
          f"moviepy concatenate {base:.2f} s; ours/baseline = {ours / base:.3f} ({base / ours:.0f}x faster)")


def moviepy_cut(scenes: list[dict], store: AssetStore, out: Path, settings: Settings) -> None:
    from moviepy import AudioFileClip, CompositeAudioClip, VideoFileClip, concatenate_videoclips

    clips = []
    for sc in scenes:
        clip_ref: AssetRef = sc["clip"]
        video = VideoFileClip(str(store.path(clip_ref)))
        voice = AudioFileClip(str(store.path(sc["audio"]))).with_start(0.25)
        clips.append(video.with_audio(CompositeAudioClip([voice]).with_duration(video.duration)))
    concatenate_videoclips(clips).write_videofile(
        str(out), fps=settings.fps, codec="libx264", preset=settings.x264_preset, audio_codec="aac",
        ffmpeg_params=["-crf", str(settings.crf), "-pix_fmt", "yuv420p"], logger=None)
    for c in clips:
        c.close()
