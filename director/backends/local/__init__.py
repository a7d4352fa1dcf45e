"""Local backends: no key, no network, real output."""

from director.backends.local.image import LocalIllustrator
from director.backends.local.motion import KenBurns
from director.backends.local.story import LocalStoryWriter
from director.backends.local.voice import PiperVoiceBackend

__all__ = ["KenBurns", "LocalIllustrator", "LocalStoryWriter", "PiperVoiceBackend"]
