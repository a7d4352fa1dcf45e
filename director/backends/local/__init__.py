"""Local backends: no key, no network, real output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from director.config import Settings

if TYPE_CHECKING:
    from director.backends import Backends


def local_backends(settings: Settings) -> Backends:
    from director.backends import Backends
    from director.backends.local.image import LocalIllustrator
    from director.backends.local.motion import KenBurns
    from director.backends.local.story import LocalStoryWriter
    from director.backends.local.voice import PiperVoiceBackend

    return Backends(
        family="local",
        story=LocalStoryWriter(),
        image=LocalIllustrator(),
        voice=PiperVoiceBackend(default_voice=settings.voice),
        motion=KenBurns(crf=settings.crf, preset=settings.x264_preset),
    )
