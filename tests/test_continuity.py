"""The same characters in every shot: reference sheets, the continuity check and its re-take,
changing one look, and pictures that keep their characters in frame."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from director.prompting import render
from tests.helpers import check_final, db_rows, run_cli

GEMINI = ("--backend", "gemini", "--budget", "10")  # three Omni clips pass the $2 default cap
STYLE = "warm picture-book illustration"


def cli(capsys, ws: Path, *args: str):
    return run_cli(capsys, *args, "--workspace", str(ws))


def executed(ws: Path, run: str, since: int = 0) -> list[tuple[str, dict]]:
    rows = db_rows(ws / "director.db", f"SELECT tool, args_json FROM tool_calls WHERE run_id='{run}' AND reused=0 "
                                       f"AND error IS NULL AND tool!='brain' AND id>{since} ORDER BY id")
    return [(t, json.loads(a)) for t, a in rows]


def last_call_id(ws: Path) -> int:
    return db_rows(ws / "director.db", "SELECT COALESCE(MAX(id), 0) FROM tool_calls")[0][0]


def image_parts(request) -> list[bytes]:
    """The pictures a request carries (google-genai sends them URL-safe, unpadded)."""
    return [base64.urlsafe_b64decode(p["data"] + "=" * (-len(p["data"]) % 4)) for p in request.inline_parts()
            if p["mimeType"].startswith("image/")]


def picture_hash(data: bytes) -> str:
    import io

    with Image.open(io.BytesIO(data)) as im:
        return hashlib.sha256(np.asarray(im.convert("RGB")).tobytes()).hexdigest()


def sheet(name: str, kind: str, look: str, out: Path) -> Path:
    from director.backends.local.image import LocalIllustrator

    LocalIllustrator().create_image(render("character.md", art_style=STYLE, character=name, kind=kind, look=look),
                                    width=1024, height=1024, seed=0, out=out)
    return out


def still(scene: str, cast: str, out: Path, *, references: list[Path] | None = None, names: list[str] | None = None,
          size: tuple[int, int] = (1280, 720), seed: int = 0) -> Path:
    from director.backends.local.image import LocalIllustrator

    prompt = render("image.md", art_style=STYLE, scene=scene, characters=cast, references=names or [], fix=None,
                    shot="")
    LocalIllustrator().create_image(prompt, width=size[0], height=size[1], seed=seed, out=out, references=references)
    return out


# --- Gemini, against the fake ---------------------------------------------------------------------


def test_every_still_carries_the_sheets_of_its_characters(fake, capsys, workspace, fast):
    result = cli(capsys, workspace, "make", "a 3-scene story about a cat and a dog", *GEMINI, "--run-id", "pets")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=3)
    sheets = {c["name"]: c["sheet"]["sha256"] for c in manifest["characters"]}
    assert set(sheets) == {"Pip", "Rolo"}
    [garden] = manifest["places"]
    assert garden["name"] == "the garden" and garden["sheet"]
    pixels = {m["name"]: picture_hash((workspace / m["sheet"]["path"]).read_bytes())
              for m in manifest["characters"] + manifest["places"]}
    sheets["the garden"] = garden["sheet"]["sha256"]

    requests = fake.calls("image")
    sheet_requests = [r for r in requests if "Character reference sheet of" in r.text
                      or "Reference picture of the place the garden" in r.text]
    assert len(sheet_requests) == 3 and all(image_parts(r) == [] for r in sheet_requests)
    stills = {int(r.text.split("scene ")[1].split(",")[0]): r for r in requests if r not in sheet_requests}
    assert sorted(stills) == [1, 2, 3]
    # Scenes 1 and 2 show both (Pip is image 0, Rolo image 1) in the garden (image 2); scene 3 shows Rolo alone.
    for n, names in ((1, ["Pip", "Rolo", "the garden"]), (2, ["Pip", "Rolo", "the garden"]), (3, ["Rolo", "the garden"])):
        sent = [picture_hash(b) for b in image_parts(stills[n])]  # sent as PNG, re-encoded: the same pixels
        assert sent == [pixels[name] for name in names], n
        assert "; ".join(f"{name} is image {i}" for i, name in enumerate(names)) in stills[n].text
        scene = manifest["scenes"][n - 1]
        assert [r.get("character") or r.get("place") for r in scene["references"]] == names
        assert [r["sha256"] for r in scene["references"]] == [sheets[name] for name in names]
        assert scene["continuity"]["score"] == pytest.approx(0.93) and scene["continuity"]["passed"]
    # The continuity check saw the characters' sheets first (places are not scored), then the still.
    checks = fake.calls("continuity")
    assert len(checks) == 3
    for r in checks:
        assert r.body["generationConfig"]["responseMimeType"] == "application/json"
        assert len(image_parts(r)) == r.text.count("picture ") // 2 + 1
    assert fake.refusals == []


def test_a_still_under_the_threshold_is_redrawn_once_with_the_reasons(fake, capsys, workspace, fast):
    def low_for_scene_two(req):
        from tests.fakes.server import Reply

        verdict = {"characters": [{"name": "Pip", "score": 0.31, "reason": "the scarf is red, the sheet's is blue"},
                                  {"name": "Rolo", "score": 0.9, "reason": ""}]}
        return Reply(body={"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(verdict)}]},
                                           "finishReason": "STOP"}]})

    # Both scenes' first verdicts are low: the retakes' own verdicts (the fake's default) pass.
    for _ in range(2):
        fake.enqueue("continuity", low_for_scene_two)
    result = cli(capsys, workspace, "make", "a 2-scene story about a cat and a dog", *GEMINI, "--run-id", "pets")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=2)
    calls = executed(workspace, "pets")
    retakes = [args for tool, args in calls if tool == "create_image" and args.get("fix")]
    assert sorted(a["scene"] for a in retakes) == [1, 2]  # exactly one re-take per low scene
    assert all("Pip: the scarf is red, the sheet's is blue" in a["fix"] for a in retakes)
    redrawn = [r for r in fake.calls("image") if "A check of the last attempt found" in r.text]
    assert len(redrawn) == 2 and all("the scarf is red" in r.text for r in redrawn)
    for scene in manifest["scenes"]:
        assert scene["continuity"]["retakes"] == 1 and scene["continuity"]["passed"]
        assert scene["continuity"]["score"] == pytest.approx(0.93)
    html = (Path(result.last_line).parent / "storyboard.html").read_text()
    assert "redrawn 1×" in html and "Continuity</b> with Pip, Rolo: 0.93" in html


def test_a_still_that_stays_low_is_kept_after_its_retakes(fake, capsys, workspace, fast):
    from tests.fakes.server import Reply

    def low(req):
        verdict = {"characters": [{"name": n, "score": 0.2, "reason": f"{n} has the wrong colours"}
                                  for n in ("Pip", "Rolo")]}
        return Reply(body={"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(verdict)}]},
                                           "finishReason": "STOP"}]})

    for _ in range(10):
        fake.enqueue("continuity", low)
    result = cli(capsys, workspace, "make", "a 1-scene story about a cat and a dog", *GEMINI, "--run-id", "low",
                 "--retakes", "2")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=1)
    fixes = [a for t, a in executed(workspace, "low") if t == "create_image" and a.get("fix")]
    assert len(fixes) == 2  # --retakes 2, and no more
    scene = manifest["scenes"][0]["continuity"]
    assert scene["retakes"] == 2 and not scene["passed"] and scene["score"] == pytest.approx(0.2)
    assert "Pip: Pip has the wrong colours" in scene["reasons"]


def test_a_malformed_verdict_is_a_provider_error_not_a_score(fake, capsys, workspace, fast):
    fake.enqueue("continuity", {"candidates": [{"content": {"role": "model", "parts": [
        {"text": json.dumps({"characters": [{"name": "Pip", "score": 7, "reason": ""}]})}]}, "finishReason": "STOP"}]})
    result = cli(capsys, workspace, "make", "a 1-scene story about a cat and a dog", *GEMINI, "--run-id", "bad")
    assert result.code == 0, result.err
    rows = db_rows(workspace / "director.db", "SELECT error FROM tool_calls WHERE tool='check_continuity' "
                                              "AND error IS NOT NULL")
    assert rows and "expected Pip, Rolo from 0 to 1" in rows[0][0]


def test_changing_one_look_redoes_its_sheet_and_its_scenes_only(fake, capsys, workspace, fast):
    result = cli(capsys, workspace, "make", "a 3-scene story about a cat and a dog", *GEMINI, "--run-id", "pets")
    assert result.code == 0, result.err
    before = json.loads((Path(result.last_line).parent / "manifest.json").read_text())
    mark, images = last_call_id(workspace), len(fake.calls("image"))
    result = cli(capsys, workspace, "say", "pets", "make Pip's scarf red")
    assert result.code == 0, result.err
    after = json.loads((Path(result.last_line).parent / "manifest.json").read_text())
    redone = executed(workspace, "pets", since=mark)
    made = sorted((tool, args.get("scene") or args.get("character")) for tool, args in redone
                  if tool not in ("revise_storyboard", "mix_sound", "assemble_video"))
    # Pip is in scenes 1 and 2; scene 3 is Rolo's alone and is kept, as are Rolo's sheet and every narration.
    assert made == [("animate_image", 1), ("animate_image", 2), ("check_continuity", 1), ("check_continuity", 2),
                    ("create_image", 1), ("create_image", 2), ("draw_character", "Pip")]
    new_requests = fake.calls("image")[images:]
    assert len(new_requests) == 3 and "Character reference sheet of Pip" in new_requests[0].text
    assert "red scarf" in new_requests[0].text
    pip = {c["name"]: c for c in after["characters"]}["Pip"]
    assert pip["look"] == "a small ginger cat with a red scarf"
    old = {c["name"]: c["sheet"]["sha256"] for c in before["characters"]}
    new = {c["name"]: c["sheet"]["sha256"] for c in after["characters"]}
    assert new["Rolo"] == old["Rolo"] and new["Pip"] != old["Pip"]
    assert after["scenes"][2]["image"] == before["scenes"][2]["image"]
    assert [s["audio"] for s in after["scenes"]] == [s["audio"] for s in before["scenes"]]
    assert after["scenes"][0]["references"][0]["sha256"] == new["Pip"]
    assert fake.refusals == []


# --- offline --------------------------------------------------------------------------------------


def test_offline_runs_draw_sheets_and_check_every_scene(story_run):
    run, events, ws = story_run
    manifest = run.manifest()
    assert manifest["characters"] and all(c["sheet"] for c in manifest["characters"])
    # at the default 720p a sheet is the square default; a draft's is its own (the place test below)
    assert {(c["sheet"]["width"], c["sheet"]["height"]) for c in manifest["characters"]} == {(1024, 1024)}
    for scene in manifest["scenes"]:
        assert scene["references"], scene["index"]
        assert scene["continuity"]["passed"] and scene["continuity"]["score"] >= 0.9


def test_the_local_check_measures_likeness(tmp_path):
    from director.backends.local.vision import LocalVision

    cat = sheet("Luna", "cat", "a ginger cat with a blue scarf", tmp_path / "luna.png")
    dog = sheet("Biscuit", "dog", "a brown dog with a red bandana", tmp_path / "biscuit.png")
    cast = "Luna (cat): a ginger cat with a blue scarf; Biscuit (dog): a brown dog with a red bandana"
    good = still("Luna and Biscuit play in the meadow, midday", cast, tmp_path / "good.png",
                 references=[cat, dog], names=["Luna", "Biscuit"])
    night = still("Luna and Biscuit asleep under a blanket in the bedroom, night", cast, tmp_path / "night.png",
                  references=[cat, dog], names=["Luna", "Biscuit"])
    wrong = still("Luna plays in the meadow, midday", "Luna (cat): a grey cat with a green scarf", tmp_path / "bad.png")
    vision = LocalVision()
    refs = [("Luna", cat), ("Biscuit", dog)]
    assert all(score >= 0.9 for score, _ in vision.check_continuity(good, refs).values())
    assert all(score >= 0.6 for score, _ in vision.check_continuity(night, refs).values())
    score, reason = vision.check_continuity(wrong, [("Luna", cat)])["Luna"]
    assert score < 0.3 and "covers 0% of where it is drawn" in reason and "of its sheet" in reason
    # A still the painter did not make (no note of where it drew whom) is searched.
    for src, dest in ((good, "plain-good.png"), (wrong, "plain-bad.png")):
        with Image.open(src) as im:
            im.convert("RGB").save(tmp_path / dest)
    assert vision.check_continuity(tmp_path / "plain-good.png", [("Luna", cat)])["Luna"][0] >= 0.9
    assert vision.check_continuity(tmp_path / "plain-bad.png", [("Luna", cat)])["Luna"][0] < 0.3
    # One the cast is missing from scores 0 for them.
    alone = still("Luna on the beach, sunset", cast, tmp_path / "alone.png", references=[cat], names=["Luna"])
    assert vision.check_continuity(alone, refs)["Biscuit"] == (0.0, "not in the picture")


def test_the_painter_draws_each_character_from_its_sheet(tmp_path):
    """The sheet, not the words, sets the colours: a sheet painted blue makes a blue cat in the scene."""
    from director.backends.local.marks import boxes_of

    blue = sheet("Luna", "cat", "a blue cat with a yellow scarf", tmp_path / "blue.png")
    picture = still("Luna in the meadow, midday", "Luna (cat): a ginger cat", tmp_path / "s.png",
                    references=[blue], names=["Luna"])
    with Image.open(picture) as im:
        box = boxes_of(im)["Luna"]
        region = np.asarray(im.convert("RGB"))[box[1]:box[3], box[0]:box[2]].astype(int)
    r, g, b = region[..., 0], region[..., 1], region[..., 2]
    assert ((b > r + 60) & (b > 150)).mean() > 0.2  # a blue body
    assert ((r > 180) & (g > 90) & (g < 170) & (b < 100)).mean() < 0.02  # not ginger


def test_the_cast_s_looks_do_not_set_the_scene(tmp_path):
    """A 'snowy white owl' in the dunes leaves the sand sandy; 'red rain boots' bring no rain."""
    cast = "Hoot (owl): a snowy white owl; Puddle (duck): a yellow duckling in tiny red rain boots"
    picture = still("Hoot and Puddle among the sand dunes, midday", cast, tmp_path / "dunes.png")
    with Image.open(picture) as im:
        ground = np.asarray(im.convert("RGB"))[-60:, :].reshape(-1, 3).astype(int)
    r, b = np.median(ground[:, 0]), np.median(ground[:, 2])
    assert r - b > 40  # sand, not snow (snow is as blue as it is red)
    snowy = still("Hoot and Puddle in the snowy meadow, midday", cast, tmp_path / "snow.png")
    with Image.open(snowy) as im:
        ground = np.asarray(im.convert("RGB"))[-60:, :].reshape(-1, 3).astype(int)
    assert abs(np.median(ground[:, 0]) - np.median(ground[:, 2])) < 30  # the scene's own snow still falls


def test_a_role_is_drawn_as_a_person(tmp_path):
    from director.backends.local.marks import boxes_of

    picture = still("the lighthouse keeper climbs the stairs, night",
                    "the lighthouse keeper (lighthouse keeper): round glasses, a long green scarf", tmp_path / "k.png")
    with Image.open(picture) as im:
        assert list(boxes_of(im)) == ["the lighthouse keeper"]


@pytest.mark.parametrize("aspect", [(1280, 720), (720, 1280)])
def test_characters_stay_in_frame_through_every_camera_move(tmp_path, aspect):
    """The painter notes where each character is; every pan and zoom keeps them all whole."""
    from director.backends import MOTIONS
    from director.backends.local.marks import boxes_of
    from director.backends.local.motion import MIN_TRAVEL, camera, ends, keep_box

    cast = "Luna (cat): a ginger cat; Biscuit (dog): a brown dog; Hoot (owl): a brown owl"
    checked = 0
    for seed in range(6):
        picture = still("Luna, Biscuit and Hoot in the meadow, midday", cast, tmp_path / f"{seed}.png", size=aspect,
                        seed=seed)
        with Image.open(picture) as im:
            boxes, size = boxes_of(im), im.size
        assert set(boxes) == {"Luna", "Biscuit", "Hoot"}
        keep = keep_box(boxes, size, size, margin=0.0)
        w, h = size
        for motion in MOTIONS:
            for p in np.linspace(0, 1, 25):
                z, cx, cy = camera(motion, float(p), w, h, keep)
                view = (cx - w / (2 * z), cy - h / (2 * z), cx + w / (2 * z), cy + h / (2 * z))
                assert view[0] >= -1e-6 and view[1] >= -1e-6 and view[2] <= w + 1e-6 and view[3] <= h + 1e-6
                for name, (x0, y0, x1, y1) in boxes.items():
                    assert view[0] - 1e-6 <= x0 and x1 <= view[2] + 1e-6, (seed, motion, p, name)
                    assert view[1] - 1e-6 <= y0 and y1 <= view[3] + 1e-6, (seed, motion, p, name)
                checked += 1
            # ... and every move moves: its window's edges travel at least MIN_TRAVEL of the width.
            first, last = ends(motion, w, h, keep)
            assert max(abs(a - b) for a, b in zip(first, last, strict=True)) >= MIN_TRAVEL * w, (seed, motion)
    assert checked == 6 * 6 * 25


def test_a_move_pinned_by_a_character_at_the_edge_becomes_one_that_moves():
    """A pan right toward a character at the right edge has no room: the camera makes the nearest move that does."""
    from director.backends.local.motion import MIN_TRAVEL, ends

    keep = (323.2, 308.2, 1280.0, 635.8)  # scene 4 of a real run, whose pan right was a frozen picture
    first, last = ends("pan_right", 1280, 720, keep)
    assert max(abs(a - b) for a, b in zip(first, last, strict=True)) >= MIN_TRAVEL * 1280
    for view in (first, last):
        assert view[0] <= keep[0] and view[1] <= keep[1] and view[2] >= keep[2] and view[3] >= keep[3]


def test_a_clip_shows_a_character_at_the_edge_whole(tmp_path):
    """Rendered, not only computed: a red figure at the left edge stays whole through a pan that would cut it."""
    import av

    from director.backends.local.image import BOXES_KEY, save_png
    from director.backends.local.motion import KenBurns

    canvas = np.full((360, 640, 3), 90, np.uint8)
    canvas[140:300, 8:88] = (230, 30, 30)
    path = tmp_path / "edge.png"
    save_png(Image.fromarray(canvas), {BOXES_KEY: json.dumps({"Red": [8, 140, 88, 300]})}, path)
    out = tmp_path / "edge.mp4"
    KenBurns(crf=18, preset="ultrafast").animate(path, prompt="", duration=1.0, motion="pan_left", size=(640, 360),
                                                 fps=12, out=out)
    with av.open(str(out)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(int)
            red = (rgb[..., 0] > 170) & (rgb[..., 1] < 90)
            cols = np.flatnonzero(red.any(axis=0))
            assert cols.size and cols[0] > 0, "the red figure touches the frame's edge: it was cut"
    # Without the note, the same pan crops it (so the test can fail).
    bare = tmp_path / "bare.png"
    Image.fromarray(canvas).save(bare)
    KenBurns(crf=18, preset="ultrafast").animate(bare, prompt="", duration=1.0, motion="pan_left", size=(640, 360),
                                                 fps=12, out=tmp_path / "bare.mp4")
    with av.open(str(tmp_path / "bare.mp4")) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(int)
    assert ((first[..., 0] > 170) & (first[..., 1] < 90))[:, 0].any()  # cut at the left edge


def test_a_look_revision_offline(tmp_path):
    from director.revisions import parse
    from director.state import Character, Scene, Storyboard

    board = Storyboard(title="t", art_style="s", characters=[
        Character(name="Pip", kind="cat", look="a small ginger cat with a blue scarf"),
        Character(name="Rolo", kind="dog", look="a brown puppy with floppy ears")],
        scenes=[Scene(index=1, image_prompt="Pip and Rolo in the garden", narration="x"),
                Scene(index=2, image_prompt="Rolo alone by the pond", narration="y")])
    assert parse("make Pip's scarf red", board) == {"characters": [
        {"name": "Pip", "look": "a small ginger cat with a red scarf"}]}
    assert parse("give Rolo a yellow hat", board) == {"characters": [
        {"name": "Rolo", "look": "a brown puppy with floppy ears, with a yellow hat"}]}
    assert parse("Rolo looks like a white poodle", board) == {"characters": [{"name": "Rolo", "look": "a white poodle"}]}
    assert [c.name for c in board.cast_of(2)] == ["Rolo"]


def test_ads_documentaries_and_how_tos_show_their_subject(tmp_path):
    """The painter draws what a goal without characters is about: people, a shop, bees, a volcano."""
    from director.backends.local.marks import boxes_of

    def near(path: Path, colour: tuple[int, int, int], tolerance: int = 30) -> int:
        with Image.open(path) as im:
            pixels = np.asarray(im.convert("RGB")).astype(int)
        return int((np.abs(pixels - np.array(colour)).max(axis=2) < tolerance).sum())

    meadow = still("a green meadow, midday", "", tmp_path / "meadow.png")
    customers = still("smiling customers enjoying coffee at Bean There, afternoon", "", tmp_path / "c.png")
    with Image.open(customers) as im:
        assert len([n for n in boxes_of(im) if n.startswith("person")]) >= 2
    bees = still("a close-up that introduces how bees make honey, morning", "", tmp_path / "bees.png")
    assert near(bees, (226, 170, 70)) > 400 > near(meadow, (226, 170, 70))  # the hive
    volcano = still("a detailed view of the first stage of volcanoes, midday", "", tmp_path / "v.png")
    assert near(volcano, (240, 90, 30)) > 400 > near(meadow, (240, 90, 30))  # its lava
    shop = still("the front of Bean There on a sunny street, morning", "", tmp_path / "shop.png")
    assert near(shop, (236, 222, 200), 8) > 20_000 > near(meadow, (236, 222, 200), 8)  # the shop's wall


def test_a_recurring_place_gets_a_sheet_and_looks_the_same_offline(tmp_path, fast):
    """An ad's shop is named in most scenes: it gets a reference picture, and every scene that names it
    draws its awning in the sheet's colour."""
    from director.api import Director
    from director.backends.local.image import sheet_spec

    ws = tmp_path / "ws"
    run = Director(workspace=ws, backend="local").submit("a 4-scene ad for a coffee shop called Bean There",
                                                          run_id="ad", motion="still", music="none")
    assert run.status == "done", run.error
    manifest = run.manifest()
    [place] = manifest["places"]
    assert place["name"] == "Bean There" and place["sheet"]
    assert (place["sheet"]["width"], place["sheet"]["height"]) == (512, 512)  # a 360p draft's square (FAST)
    colour = tuple(sheet_spec(ws / place["sheet"]["path"])["accent"])
    named = [s for s in manifest["scenes"] if "Bean There" in s["image_prompt"]]
    assert len(named) >= 2
    for scene in named:
        assert [r.get("place") for r in scene["references"]] == ["Bean There"]
        with Image.open(ws / scene["image"]["path"]) as im:
            pixels = np.asarray(im.convert("RGB")).astype(int)
        assert (np.abs(pixels - np.array(colour)).max(axis=2) < 12).sum() > 3000, scene["index"]  # its awning
    html = (run.run_dir / "storyboard.html").read_text()
    assert "<b>Bean There</b> (place)" in html
