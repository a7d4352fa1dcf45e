"""The model catalog: today's models, honest prices, and nothing paid before the models are known to exist."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from director.errors import ConfigError
from director.models import catalog, find, parse, today
from director.prices import Prices, Unpriced, Usage
from tests.fakes import served
from tests.helpers import check_final, run_cli

GOAL = "a 2-scene bedtime story about a cat and a dog"


def test_no_default_is_past_its_shutdown_date():
    """Fails, naming the model and its replacement, on the day any default passes its shutdown date."""
    assert catalog().stale_defaults(today()) == []


def test_the_date_check_catches_a_default_on_its_shutdown_day():
    text = (Path(__file__).parents[1] / "director" / "models.toml").read_text()
    day = today() + timedelta(days=30)
    # The brain default announced to shut down in a month, with 3.6 Flash as its replacement.
    text = text.replace('id = "gemini-3.8-flash"\nname = "Gemini 3.8 Flash"',
                        f'id = "gemini-3.8-flash"\nname = "Gemini 3.8 Flash"\nshutdown = {day:%Y-%m-%d}\n'
                        f'replacement = "gemini-3.6-flash"')
    book = parse(text)
    assert book.stale_defaults(day - timedelta(days=1)) == []
    lines = book.stale_defaults(day)
    assert len(lines) == 3  # brain, story and vision all use it
    assert lines[0] == (f"the default brain model gemini-3.8-flash is shut down on {day:%Y-%m-%d}; the catalog's "
                        f"replacement is gemini-3.6-flash: update [defaults] in director/models.toml")


def test_every_row_names_its_sources_and_every_default_is_served_today():
    book = catalog()
    for row in book.models:
        assert row.sources and row.read <= today(), row.id
        assert row.retired() or row.prices, f"{row.id} is served but has no price"
        if row.retired():
            assert row.id not in served.SERVED, f"the catalog says {row.id} is shut down; the fake serves it"
            assert row.replacement and not find(row.replacement).retired(), row.id
    for role, model in book.defaults.items():
        row = find(model)
        assert model in served.SERVED, f"default {role} model {model} is not served by Google today"
        assert set(row.surfaces) <= set(served.SERVED[model]["surfaces"]), model
        assert row.status in ("ga", "preview") and row.price() is not None, model
    assert "imagen-4.0-generate-001" in served.RETIRED and find("imagen-4.0-generate-001").retired()


def test_prices_come_from_the_catalog_by_date_and_never_by_guessing():
    before, after = Prices(on=date(2026, 12, 31)), Prices(on=date(2027, 1, 1))
    assert before.tokens("gemini-3.8-flash", 1_000_000, 1_000_000) == pytest.approx(0.75 + 3.75)
    assert after.tokens("gemini-3.8-flash", 1_000_000, 1_000_000) == pytest.approx(1.50 + 7.50)
    assert before.speech("gemini-3.8-flash-tts", "x" * 4000, 10) < after.speech("gemini-3.8-flash-tts", "x" * 4000, 10)
    # A documented stable-version suffix is the same model; nothing else borrows a price from a prefix.
    assert Prices().of("gemini-3.8-flash-001") == Prices().of("gemini-3.8-flash")
    for unknown in ("gemini-3.8-flash-tts-exp", "gemini-3.8", "gemini-3.8-flash-experimental", "my-model"):
        assert Prices().of(unknown) is None
        with pytest.raises(Unpriced, match=f"{unknown} has no price"):
            Prices().tokens(unknown, 10, 10)
    # A TTS model has no text-output price: asking for one is an error, not $0.
    with pytest.raises(Unpriced, match="output tokens"):
        Prices().tokens("gemini-3.8-flash-tts", 10, 10)
    assert Prices().image("gemini-nano-banana-2.1", "2K") == pytest.approx(0.0504)
    assert Prices().video("veo-3.1-generate-001", 8, resolution="4k", audio=True) == pytest.approx(4.80)
    # A model that always makes sound bills every second with it.
    assert Prices().video("gemini-omni-1.2-flash", 5, resolution="720p") == pytest.approx(5 * 0.1014)


def test_usage_is_priced_the_way_google_bills_it():
    prices = Prices()
    # 2.5 Flash-Lite bills audio input at three times text input, and cached tokens at a tenth.
    text_only = prices.usage("gemini-2.5-flash-lite", Usage(prompt={"TEXT": 1_000_000}))
    audio = prices.usage("gemini-2.5-flash-lite", Usage(prompt={"AUDIO": 1_000_000}))
    cached = prices.usage("gemini-2.5-flash-lite", Usage(prompt={"TEXT": 1_000_000}, cached={"TEXT": 1_000_000}))
    assert (text_only, audio, cached) == pytest.approx((0.10, 0.30, 0.01))
    # Image output at the image rate, thinking at the text rate.
    one = prices.usage("gemini-nano-banana-2.1", Usage(prompt={"TEXT": 100}, output={"IMAGE": 1120}, thoughts=200))
    assert one == pytest.approx((100 * 1.50 + 1120 * 30.0 + 200 * 7.50) / 1e6)
    speech = prices.usage("gemini-3.8-flash-tts", Usage(prompt={"TEXT": 1000}, output={"AUDIO": 25 * 60}))
    assert speech == pytest.approx((1000 * 0.50 + 1500 * 9.00) / 1e6)


def test_config_gives_and_overrides_prices(tmp_path):
    prices = Prices({"my-model": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
                     "lyria-002": {"per_clip": 0.05},  # the key from before the catalog still reads
                     "veo-3.1-generate-001": {"per_second": 0.1}})
    assert prices.tokens("my-model", 1_000_000, 1_000_000) == pytest.approx(3.0)
    assert prices.track("lyria-002") == pytest.approx(0.05)
    assert prices.video("veo-3.1-generate-001", 10, resolution="1080p") == pytest.approx(1.0)
    assert prices.of("veo-3.1-generate-001").per_second_audio["4k"] == pytest.approx(0.60)  # the rest stays
    with pytest.raises(ConfigError, match="has no key 'per_token'"):
        Prices({"x": {"per_token": 1}})


def test_a_retired_model_stops_the_run_before_any_request(fake, capsys, workspace, monkeypatch):
    monkeypatch.setenv("DIRECTOR_BRAIN_MODEL", "gemini-2.5-flash")
    result = run_cli(capsys, "make", GOAL, "--backend", "gemini", "--workspace", str(workspace))
    assert result.code == 2
    assert result.err.strip() == ("error: the brain model gemini-2.5-flash was shut down on 2026-12-01; "
                                  "set DIRECTOR_BRAIN_MODEL=gemini-3.8-flash (the catalog's default), or unset it")
    assert fake.requests == [] and not (workspace / "director.db").exists()


def test_a_model_google_no_longer_serves_is_caught_by_asking_first(fake, capsys, workspace, monkeypatch):
    """The catalog only knows 3.1 Flash Image as deprecated; Google's models.get says it is gone."""
    monkeypatch.setenv("DIRECTOR_IMAGE_MODEL", "gemini-3.1-flash-image")
    result = run_cli(capsys, "make", GOAL, "--backend", "gemini", "--workspace", str(workspace))
    assert result.code == 2
    line = result.err.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("error: the image model gemini-3.1-flash-image is not served to this key (")
    assert "This model models/gemini-3.1-flash-image is no longer available" in line
    assert line.endswith("set DIRECTOR_IMAGE_MODEL=gemini-nano-banana-2.1 (the catalog's default), or unset it")
    assert fake.billable() == [] and {r.kind for r in fake.requests} == {"model_get"}


def test_a_model_with_no_price_is_refused_under_a_budget(fake, capsys, workspace, monkeypatch):
    monkeypatch.setenv("DIRECTOR_STORY_MODEL", "gemini-3.1-pro-preview")  # served, but not in the catalog
    result = run_cli(capsys, "make", GOAL, "--backend", "gemini", "--workspace", str(workspace))
    assert result.code == 2
    assert "the story model gemini-3.1-pro-preview has no price in Director's model catalog" in result.err
    assert '[prices."gemini-3.1-pro-preview"]' in result.err and fake.requests == []
    # Given a price, it is used, and the meter bills it at that price.
    home = Path(workspace).parent / "home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text('[prices."gemini-3.1-pro-preview"]\ninput_per_mtok = 2.0\noutput_per_mtok = 12.0\n')
    result = run_cli(capsys, "make", GOAL, "--backend", "gemini", "--workspace", str(workspace),
                     "--run-id", "priced")
    assert result.code == 0, result.err
    manifest = check_final(Path(result.last_line), cues=2)
    [story] = [c for c in manifest["calls"] if c["tool"] == "write_story"]
    assert story["cost_usd"] > 0 and [r.model for r in fake.calls("story")] == ["gemini-3.1-pro-preview"]


def test_the_runner_refuses_an_unpriced_call_under_a_budget_and_not_without_one():
    from director.tools import registry

    from director.limits import BudgetGuard
    from director.runner import Runner

    class Maker:
        name, model = "gemini", "an-unlisted-image-model"

    class Backends:
        def for_capability(self, capability):
            return Maker()

    tool = registry()["create_image"]
    args = tool.input.model_validate({"scene": 1, "prompt": "a cat", "aspect": "16:9"})
    capped = Runner.__new__(Runner)
    capped.backends, capped.prices, capped.budget = Backends(), Prices(), BudgetGuard(2.0, 0.0)
    with pytest.raises(Unpriced, match="an-unlisted-image-model has no price for images"):
        capped._estimate(tool, args, {})
    capped.budget = BudgetGuard(None, 0.0)
    assert capped._estimate(tool, args, {}) == 0.0


def test_a_picture_is_estimated_at_the_image_size_its_frame_asks_for():
    """The check before a call reserves what the call will cost: a 4k run's stills are 4K pictures, a 1080p
    run's 2K; a draft's sheet is drawn smaller (512x512) and still asked for, and priced, at 1K."""
    from director.tools import registry

    from director.choices import sheet_inputs, size_inputs
    from director.state import Goal

    prices, model = Prices(), "gemini-nano-banana-2.1"
    tools = registry()
    still = tools["create_image"].input.model_validate({"scene": 1, "prompt": "a cat", "aspect": "16:9"})
    by_resolution = {}
    for resolution in ("360p", "720p", "1080p", "4k"):
        goal = Goal(text="a cat", scenes=1, resolution=resolution)
        by_resolution[resolution] = tools["create_image"].estimate(still, size_inputs(goal, "16:9"), model, prices)
        sheet = tools["draw_character"].estimate(None, sheet_inputs(goal), model, prices)
        assert sheet == prices.image(model, "1K")  # 512 and 1024 squares are both asked for at 1K
    assert by_resolution == {"360p": prices.image(model, "1K"), "720p": prices.image(model, "1K"),
                             "1080p": prices.image(model, "2K"), "4k": prices.image(model, "4K")}
    assert sheet_inputs(Goal(text="a cat", scenes=1, resolution="360p")) == {"size": [512, 512]}
    assert sheet_inputs(Goal(text="a cat", scenes=1, resolution="4k")) == {}  # a sheet is a reference, not a frame


def test_deprecated_models_warn_and_work_and_each_is_asked_about_once(fake, capsys, workspace, monkeypatch, fast):
    monkeypatch.setenv("DIRECTOR_BRAIN_MODEL", "gemini-3.7-flash")  # routed to 3.8 Flash by Google
    for run_id in ("one", "two"):
        result = run_cli(capsys, "make", GOAL, "--backend", "gemini", "--workspace",
                         str(workspace), "--run-id", run_id)
        assert result.code == 0, result.err
        assert "the brain model gemini-3.7-flash is deprecated" in result.err
        assert "gemini-3.8-flash replaces it" in result.err
    asked = [r.model for r in fake.calls("model_get")]
    assert sorted(asked) == sorted(set(asked))  # once per process, key and model
    assert set(asked) == {"gemini-3.7-flash", "gemini-3.8-flash", "gemini-nano-banana-2.1", "gemini-3.8-flash-tts",
                          "gemini-omni-1.2-flash", "lyria-3.5"}


def test_director_models_lists_the_catalog_and_asks_google(fake, capsys, monkeypatch):
    result = run_cli(capsys, "models", "--json")
    assert result.code == 0, result.err
    rows = {r["role"]: r for r in json.loads(result.out)}
    assert rows["brain"]["model"] == "gemini-3.8-flash" and rows["brain"]["status"] == "ga"
    assert rows["tts"]["upcoming"] == ["from 2027-01-01: in $1.00/M tok; audio out $18.00/M tok; flex x0.5"]
    assert rows["video"]["price"].startswith("per s $0.20 720p")
    monkeypatch.setenv("DIRECTOR_IMAGE_MODEL", "gemini-3.1-flash-image")
    result = run_cli(capsys, "models", "--check")
    assert result.code == 0, result.err
    assert "google says" in result.out and "gemini-3.1-flash-image" in result.out
    checked = {r["model"]: r["check"] for r in json.loads(run_cli(capsys, "models", "--check", "--json").out)}
    assert checked["gemini-3.8-flash"] == "served (001)"
    assert checked["gemini-3.1-flash-image"].startswith("not served: gemini-3.1-flash-image: 404 NOT_FOUND: This model")
    assert checked["veo-3.1-generate-001"] == "not asked: vertex only"
    assert fake.billable() == []
    monkeypatch.delenv("GEMINI_API_KEY")
    result = run_cli(capsys, "models", "--check")
    assert result.code == 2 and "set GEMINI_API_KEY" in result.err


def test_transient_finish_reasons_are_asked_again_and_a_lost_signature_is_explained(fake, capsys, workspace, fast):
    empty = {"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": "NO_IMAGE"}],
             "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10}}
    fake.enqueue("image", empty)
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert "the answer came back empty (NO_IMAGE)" in result.err  # the retry line
    fake.enqueue("brain", {"candidates": [{"content": {"role": "model", "parts": []},
                                           "finishReason": "MISSING_THOUGHT_SIGNATURE"}]})
    result = run_cli(capsys, "make", "a dog runs", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace), "--run-id", "lost")
    assert result.code == 1
    assert "MISSING_THOUGHT_SIGNATURE" in result.err and "a Director bug" in result.err
    assert "director resume lost" in result.err


def test_a_thinking_image_model_s_drafts_never_become_the_still(fake, capsys, workspace, fast, monkeypatch):
    from PIL import Image

    monkeypatch.setenv("DIRECTOR_IMAGE_MODEL", "gemini-3-pro-image")
    result = run_cli(capsys, "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace), "--run-id", "pro")
    assert result.code == 0, result.err
    manifest = json.loads((workspace / "runs" / "pro" / "manifest.json").read_text())
    still = workspace / manifest["scenes"][0]["image"]["path"]
    # The fake's draft is a quarter-size picture of other words; the answer is the full one.
    assert manifest["backends"]["image"]["model"] == "gemini-3-pro-image"
    with Image.open(still) as im:
        assert im.size == (1280, 720)
        assert im.getpixel((640, 40)) != (0, 0, 0)
    [c] = [c for c in manifest["calls"] if c["tool"] == "create_image"]
    assert c["cost_usd"] == pytest.approx(0.134, abs=0.01)  # one final image billed, drafts not
