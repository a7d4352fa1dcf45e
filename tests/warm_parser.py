"""Imported by test_crash's fork server: the goal parser's model (spaCy's, 2 to 3 s to load), so that each forked
kill point pays for its own run, not for loading it again. The parser is plain numpy and starts no thread, so a fork
of it is as clean as a new process (Piper's ONNX session does start threads, so it is left to each run)."""

from director.backends.local import reading

assert reading.available(), "the goal parser did not load"
