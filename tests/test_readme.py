"""The README's Python example runs as written and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_snippet() -> str:
    text = README.read_text(encoding="utf-8")
    after = text[text.index("From Python:"):]
    return re.search(r"```python\n(.*?)```", after, re.S).group(1)


def test_the_readme_python_example_runs(tmp_path, monkeypatch, fast):
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(python_snippet(), "README.md", "exec"), {})
    status_line, counts, narration = out.getvalue().splitlines()
    status, final = status_line.split(" ", 1)
    assert status == "done" and final.endswith("/final.mp4") and Path(final).is_file()
    assert Path(final).is_relative_to(tmp_path / "ws")
    executed, reused = (int(n) for n in counts.split())
    assert executed > 0 and reused == 0
    assert narration.strip()
