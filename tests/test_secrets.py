"""A key never lands anywhere, even when the provider's error bodies repeat the request headers."""

from __future__ import annotations

import logging
from pathlib import Path

from director.secrets import register, scrub
from tests.conftest import TEST_KEY
from tests.helpers import checkpoint_blobs, run_cli


def everything_written(ws: Path) -> list[tuple[str, bytes]]:
    """Every file of the workspace, and every checkpoint and pending write inflated."""
    found = [(str(p), p.read_bytes()) for p in ws.rglob("*") if p.is_file()]
    found += [(f"checkpoint {kind}", blob) for kind, blob in checkpoint_blobs(ws / "director.db")]
    return found


def test_a_key_echoed_in_429_500_and_400_bodies_is_stored_nowhere(fake, capsys, workspace, fast, caplog):
    fake.echo_headers = True
    fake.fail("story", 429, retry_delay="0.1s", message="Resource has been exhausted")
    fake.fail("image", 500, times=2, message="Internal error")
    result = run_cli(capsys, "-v", "make", "a cat naps", "--scenes", "1", "--backend", "gemini",
                     "--workspace", str(workspace), "--run-id", "leaky")
    assert result.code == 0, result.err
    assert "RESOURCE_EXHAUSTED" in result.err and "x-goog-api-key" in result.err  # the echo was shown, masked
    # A 400 on the brain stops the run: its text goes to the catalog and the checkpoint's __error__ write.
    fake.fail("brain", 400, message="Bad request")
    result = run_cli(capsys, "say", "leaky", "make scene 1 at night", "--workspace", str(workspace))
    assert result.code == 1 and "400 INVALID_ARGUMENT" in result.err
    assert any(r.headers.get("x-goog-api-key") == TEST_KEY for r in fake.requests)
    haystacks = everything_written(workspace)
    assert [name for name, data in haystacks if TEST_KEY.encode() in data] == []
    assert any(b"__error__" in data or b"INVALID_ARGUMENT" in data for _, data in haystacks)
    assert TEST_KEY not in result.out + result.err + caplog.text


def test_scrub_masks_values_and_credential_shapes():
    register("s3cr3t-value")
    text = ('{"headers": {"x-goog-api-key": "AIzaSyA0123456789abcdefghijKLM", "authorization": "Bearer ya29.tok3n"}} '
            "GET /v1beta/models?alt=sse&key=abc123 and s3cr3t-value; Authorization: Bearer abc.def.ghi")
    clean = scrub(text)
    for leaked in ("AIzaSyA0123456789abcdefghijKLM", "ya29.tok3n", "abc123", "s3cr3t-value", "abc.def.ghi"):
        assert leaked not in clean
    assert scrub("a monkey=3 and a donkey") == "a monkey=3 and a donkey"


def test_log_records_are_scrubbed(capsys):
    from director.secrets import ScrubFilter

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "request failed: %s", ("key=AIzaSyA0123456789abcdefghijKLM",),
                               None)
    ScrubFilter().filter(record)
    assert "AIza" not in record.getMessage()
