"""The DirectorError tree.

The CLI prints one line and exits non-zero for any DirectorError; anything
else is a bug and gets a traceback.
"""

from __future__ import annotations


class DirectorError(Exception):
    """Root of every error Director raises on purpose. Its message never carries a secret."""

    exit_code: int = 1

    def __init__(self, *args: object) -> None:
        from director.secrets import scrub

        super().__init__(*(scrub(a) if isinstance(a, str) else a for a in args))


class ConfigError(DirectorError):
    """A missing key or a bad setting. The message names the fix."""

    exit_code = 2


class NeedsVertex(ConfigError):
    """A provider google-genai serves only in Vertex mode (Imagen, Veo), asked for in Gemini API-key mode."""


class InputError(DirectorError):
    """Bad user input: an empty goal, an unknown aspect, a missing run..."""

    exit_code = 2


class UnknownRun(InputError):
    """No run by that id in this workspace."""


class RunStateError(InputError):
    """The run is not in a state that allows the command (waiting for approval, not finished, busy...)."""


class ToolArgumentError(DirectorError):
    """A tool was called with arguments it cannot use. Goes back to the brain."""


class ProviderError(DirectorError):
    """A model provider failed."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str | None = None,
        status: int | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.model = model
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class UnsureStart(ProviderError):
    """A paid long-running job's start was sent and never answered: it may be running and billed, so it is not
    sent again without the user's word (director resume RUN --retry-unsure)."""


class SafetyBlocked(ProviderError):
    """The provider refused the request or withheld the output for safety reasons."""


class BudgetExceeded(DirectorError):
    """The next call would spend more than the run's budget."""

    exit_code = 3


class MediaError(DirectorError):
    """ffmpeg or decoding failed."""


class Interrupted(DirectorError):
    """Ctrl-C or SIGTERM stopped a run; it is saved, marked interrupted, and resumable."""

    exit_code = 130


class StorageError(DirectorError):
    """The workspace cannot be read or written: a full disk, a damaged or read-only database."""
