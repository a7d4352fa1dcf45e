"""Seeded random faults from the provider: every run finishes, or stops resumable with a named reason,
with no asset lost and no paid result bought twice.

The fake answers a share of model requests (the brain's too) with a 429, a 500, a reply
slower than the client's timeout, JSON cut off mid-way, or media truncated inside a
well-formed answer. Director retries what may pass, refuses damaged media (and asks
again), and stops a scene it cannot finish, which `resume` then makes.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers import check_final, db_rows, run_cli


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_storm_of_faults_loses_nothing_and_pays_nothing_twice(fake, capsys, workspace, fast, monkeypatch, seed):
    monkeypatch.setenv("DIRECTOR_REQUEST_TIMEOUT_S", "1")
    monkeypatch.setenv("DIRECTOR_MAX_ATTEMPTS", "6")
    fake.slow_s = 1.6
    fake.set_chaos(seed, rate=0.3)
    args = ("--workspace", str(workspace))
    result = run_cli(capsys, "make", "a 2-scene story about a fox and an owl", "--backend", "vertex", "--budget",
                     "50", "--run-id", "storm", "--resolution", "720p", *args)
    rounds = 0
    while result.code != 0 and rounds < 3:
        # Stopped: it says why in one line, names the way on, and is saved.
        assert "Traceback" not in result.err
        assert "director resume storm" in result.err, result.err
        [(status, error)] = db_rows(workspace / "director.db", "SELECT status, error FROM runs")
        assert status in ("failed", "stopped") and (error or "").strip()
        result = run_cli(capsys, "resume", "storm", *args)
        rounds += 1
    if result.code != 0:  # the storm outlasted three resumes: calm it, and the run still finishes
        fake.set_chaos(seed, rate=0.0)
        # A clip start answered too late may be running and billed: only the user's word starts it again.
        again = ("--retry-unsure",) if "--retry-unsure" in result.err else ()
        result = run_cli(capsys, "resume", "storm", *again, *args)
    assert result.code == 0, result.err
    check_final(Path(result.last_line), cues=2)
    assert fake.chaos_log, "the storm must have hit something"

    # No asset lost: every file in the catalog is whole.
    doctor = run_cli(capsys, "doctor", *args)
    assert doctor.code == 0, doctor.out
    # No paid result bought twice: each call that succeeded ran once, and the fake never served
    # the same whole picture or voice twice.
    executed = db_rows(workspace / "director.db", "SELECT key FROM tool_calls WHERE reused = 0 AND error IS NULL "
                                                  "AND tool != 'brain'")
    assert [k for k, n in Counter(k for (k,) in executed).items() if n > 1] == []
    whole = Counter(key for kind, key, ok in fake.media_served if ok)
    assert [k for k, n in whole.items() if n > 1] == []
    manifest = json.loads((workspace / "runs" / "storm" / "manifest.json").read_text())
    assert manifest["status"] == "done"


@pytest.mark.parametrize("kind,backend", [("image", "gemini"), ("image", "vertex"), ("tts", "gemini"),
                                         ("lyria", "vertex")])
def test_media_truncated_in_a_well_formed_answer_is_refused_and_asked_again(fake, capsys, workspace, fast,
                                                                            monkeypatch, kind, backend):
    fake.set_chaos(7, rate=1.0, kinds={kind}, picks=["truncate"], times=1)
    result = run_cli(capsys, "make", "a fox", "--scenes", "1", "--backend", backend, "--resolution", "720p",
                     "--budget", "5", "--dialogue", "none", "--workspace", str(workspace))
    assert result.code == 0, result.err
    assert fake.chaos_log == [(kind, "truncate")]
    served = [ok for k, _, ok in fake.media_served if k == kind]
    if kind != "tts":  # a picture or a track cut short does not decode: refused, and asked for once more
        # (a story's sheets are drawn at once, so the one cut may be served after another: only it was cut)
        assert served.count(False) == 1 and served[-1] is True and "came back" in result.err
    check_final(Path(result.last_line), cues=1)


def test_a_truncated_veo_clip_fails_its_scene_and_resume_makes_it(fake, capsys, workspace, fast):
    fake.set_chaos(7, rate=1.0, kinds={"veo_poll"}, picks=["truncate"], times=99)
    args = ("--workspace", str(workspace))
    result = run_cli(capsys, "make", "a fox", "--scenes", "1", "--backend", "vertex", "--budget", "5",
                     "--run-id", "veo", "--resolution", "720p", "--dialogue", "none", *args)
    assert result.code == 1 and "veo-3.1-generate-001 returned a damaged clip" in result.err
    assert len(fake.calls("veo")) == 1  # a damaged clip is not asked for again on its own: it was paid for
    fake.set_chaos(7, rate=0.0)
    result = run_cli(capsys, "resume", "veo", *args)
    assert result.code == 0, result.err
    check_final(Path(result.last_line), cues=1)
