"""Full render and re-render: Director against the reference notebook's MoviePy method.

Inputs: 10 scenes, each a 1280x720 still and a 3 s narration WAV. Director
renders them the way a run does: one batch of animate_image calls (Ken Burns,
or motion "still"), mix_sound and assemble_video, through the Runner, with
its ordering, concurrency and render slots. The reference is written the way the Gemini
cookbook notebook writes it, in MoviePy 2.x: per scene an ImageClip for the
audio's duration (with a Resize zoom for the motion variant) in a
CompositeVideoClip with its AudioFileClip, then concatenate_videoclips and
write_videofile at 24 fps. Both use the same x264 preset and CRF. The floor is
bare ffmpeg encoding Director's own output frames from raw I420 in a file.

Director's scenes are a little longer than the reference's (a 0.25 s lead
and 0.55 s tail around the words), so it encodes more frames; the ratios do
not correct for that.
"""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
from pathlib import Path

from bench.common import Options, Report, median_of, timed
from director.backends.local.image import LocalIllustrator
from director.media import probe, run_ffmpeg

SIZE, FPS, CRF, PRESET = (1280, 720), 24, 20, "veryfast"


def make_inputs(d: Path, scenes: int, speech: float, size: tuple[int, int]) -> tuple[list[Path], list[Path]]:
    stills, wavs = [], []
    painter = LocalIllustrator()
    for i in range(1, scenes + 1):
        still, wav = d / f"still{i}.png", d / f"voice{i}.wav"
        painter.create_image(f"storybook watercolour. a cat and a dog, scene {i}, {['dawn', 'noon', 'dusk'][i % 3]}",
                             width=size[0], height=size[1], seed=i, out=still)
        run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency={180 + 40 * i}:duration={speech}:sample_rate=22050",
                    "-ac", "1", str(wav)], what="make a narration stand-in")
        stills.append(still)
        wavs.append(wav)
    return stills, wavs


class DirectorRender:
    """A fresh workspace with the stills and voices on a storyboard, rendered by the Runner."""

    def __init__(self, root: Path, stills: list[Path], wavs: list[Path], motion: str, transition: str = "cut",
                 resolution: str = "720p") -> None:
        from director.tools import registry

        from director.api import Director
        from director.runner import Runner
        from director.state import DirectorState, Goal, Scene, Storyboard

        director = Director(workspace=root, backend="local", fps=FPS, crf=CRF, x264_preset=PRESET)
        session = director.lifecycle._session("local")
        self.runner = Runner(settings=director.settings, backends=session.backends, store=session.store,
                             catalog=session.catalog, tools=registry())
        scenes = [Scene(index=i, image_prompt=f"scene {i}", narration=f"Scene {i}.",
                        image=self._put(still, "image"), audio=self._put(wav, "audio"))
                  for i, (still, wav) in enumerate(zip(stills, wavs), start=1)]
        self.state = DirectorState(run_id="bench", goal=Goal(text="bench", scenes=len(scenes), motion=motion,
                                                                  transition=transition, resolution=resolution),
                                   storyboard=Storyboard(title="bench", art_style="-", scenes=scenes))

    def _put(self, src: Path, kind: str):  # noqa: ANN202
        tmp = self.runner.store.temp_path(src.suffix)
        shutil.copyfile(src, tmp)
        return self.runner.store.put(tmp, kind)  # type: ignore[arg-type]

    def render(self) -> float:
        """Plan with the local brain (clips and the cut in one batch) and run it; wall seconds."""
        from director.brain.local import LocalBrain
        from director.call_batch import fold

        calls = LocalBrain().decide(self.state).calls
        assert {c.name for c in calls} <= {"animate_image", "mix_sound", "assemble_video"}, calls
        def go() -> None:
            results = self.runner.run_batch(self.state, calls, lambda e: None)
            failed = [r.error for r in results if not r.ok]
            if failed:
                raise RuntimeError(f"render failed: {failed}")
            board = fold(self.state.storyboard, calls, results, self.runner.tools)
            self.state = self.state.model_copy(update={"storyboard": board})

        return timed(go)

    def change_picture(self, scene: int, still: Path) -> None:
        board = self.state.storyboard.model_copy(deep=True)
        board.set_image(scene, self._put(still, "image"))
        self.state = self.state.model_copy(update={"storyboard": board})

    @property
    def final(self) -> Path:
        assert self.state.storyboard and self.state.storyboard.final
        return self.runner.store.path(self.state.storyboard.final.video)


def reference(stills: list[Path], wavs: list[Path], out: Path, motion: bool, size: tuple[int, int] = SIZE) -> None:
    """The notebook's method, in MoviePy 2.x."""
    import numpy as np
    from moviepy import AudioFileClip, CompositeVideoClip, ImageClip, concatenate_videoclips, vfx
    from PIL import Image

    clips = []
    for still, wav in zip(stills, wavs):
        audio_clip = AudioFileClip(str(wav))
        image_clip = ImageClip(np.array(Image.open(still).convert("RGB"))).with_duration(audio_clip.duration)
        if motion:
            image_clip = image_clip.with_effects([vfx.Resize(lambda t: 1 + 0.04 * t)]).with_position("center")
        clips.append(CompositeVideoClip([image_clip], size=size).with_audio(audio_clip))
    final = concatenate_videoclips(clips)
    final.write_videofile(str(out), fps=FPS, codec="libx264", preset=PRESET, audio_codec="aac",
                          ffmpeg_params=["-crf", str(CRF), "-pix_fmt", "yuv420p"], logger=None)
    final.close()
    for c in clips:
        c.close()


def floor(video: Path, d: Path) -> float:
    """Bare x264 on the same frames, read from a raw I420 file (decoding is not timed)."""
    raw = d / "frames.yuv"
    run_ffmpeg(["-i", str(video), "-an", "-f", "rawvideo", "-pix_fmt", "yuv420p", str(raw)], what="decode")
    p = probe(video)
    try:
        return timed(lambda: run_ffmpeg(
            ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", f"{p.width}x{p.height}", "-r", str(FPS), "-i", str(raw),
             "-c:v", "libx264", "-preset", PRESET, "-crf", str(CRF), "-pix_fmt", "yuv420p", str(d / "floor.mp4")],
            what="encode the floor"))
    finally:
        raw.unlink(missing_ok=True)


def main(report: Report, options: Options) -> None:
    scenes, speech = (2, 1.0) if options.quick else (10, 3.0)
    size, resolution = ((640, 360), "360p") if options.quick else (SIZE, "720p")  # --quick: the draft size
    change = (scenes + 1) // 2
    lines = report.section(f"Full render and re-render ({scenes} scenes)")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        stills, wavs = make_inputs(d, scenes, speech, size)
        variants = []
        for k in range(options.repeat):  # a different picture for the changed scene each time
            LocalIllustrator().create_image(f"storybook watercolour. an owl at night, take {k}", width=size[0],
                                            height=size[1], seed=100 + k, out=d / f"changed{k}.png")
        bases: dict[str, float] = {}
        for motion, transition, label in (("auto", "cut", "Ken Burns"), ("still", "cut", "plain stills"),
                                          ("auto", "crossfade", "Ken Burns, 0.5 s crossfades")):
            full, again, ours_out = [], [], None
            for k in range(options.repeat):
                job = DirectorRender(d / f"ws-{motion}-{transition}-{k}", stills, wavs, motion, transition, resolution)
                full.append(job.render())
                job.change_picture(change, d / f"changed{k}.png")
                again.append(job.render())
                ours_out = job.final
            ours, rerender = statistics.median(full), statistics.median(again)
            assert ours_out is not None
            ours_len = probe(ours_out).duration or 0.0
            if motion not in bases:  # the same reference for the crossfade variant: the notebook has no transitions
                bases[motion] = median_of(lambda m=motion: reference(stills, wavs, d / f"reference-{m}.mp4",
                                                                     m == "auto", size), options.repeat)
            base = bases[motion]
            base_len = probe(d / f"reference-{motion}.mp4").duration or 0.0
            bottom = statistics.median(floor(ours_out, d) for _ in range(options.repeat))
            variants.append((label, ours, base, bottom, rerender, ours_len, base_len, transition))
        Report.line(lines, f"{scenes} scenes, each a {size[0]}x{size[1]} still and {speech:.0f} s of narration; "
                           f"{FPS} fps, x264 {PRESET} CRF {CRF}; {os.cpu_count()} cores; "
                           f"median of {options.repeat}.")
        Report.line(lines, "")
        Report.line(lines, "| variant | Director | reference (MoviePy) | ffmpeg floor | reference / Director | "
                           "Director / floor | output length (Director, reference) |")
        Report.line(lines, "|---|---|---|---|---|---|---|")
        for label, ours, base, bottom, _, ours_len, base_len, _ in variants:
            Report.line(lines, f"| {label} | {ours:.2f} s | {base:.2f} s | {bottom:.2f} s | **{base / ours:.1f}x** "
                               f"faster | {ours / bottom:.2f} | {ours_len:.1f} s, {base_len:.1f} s |")
        Report.line(lines, "")
        for label, ours, _, _, rerender, _, _, transition in variants:
            encoded = "one clip encoded" if transition == "cut" else "one clip and the two transitions either side " \
                                                                     "of it encoded"
            Report.line(lines, f"- Re-render after changing scene {change} of {scenes} ({label}): {rerender:.2f} s "
                               f"= **{100 * rerender / ours:.0f}%** of Director's full render ({encoded}; the "
                               f"other clips and the cached sound track joined by stream copy). The reference "
                               f"method re-renders everything: 100%.")


if __name__ == "__main__":
    main(Report(), Options())
