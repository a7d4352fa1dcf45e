"""What Google serves today (December 2026), as the fake knows it: kept apart from Director's own model
catalog on purpose, so that a catalog row that goes wrong is caught by a test instead of agreeing with it.

Sources (read 2026-12-06): ai.google.dev/gemini-api/docs/deprecations and changelog, the Gemini Enterprise
Agent Platform (Vertex) model pages, and google-genai 3.6.1's model list. Where a shutdown is reported only
by third parties (gemini-3.1-flash-image, 2026-10-29), the fake takes the stricter reading: not served.

Each served model: the surfaces that serve it, the REST methods it answers, and on Vertex whether it is
on the global endpoint or in regions. A retired or unknown id gets the real 404 NOT_FOUND bodies.
"""

from __future__ import annotations

from typing import Any

GC = ("generateContent", "streamGenerateContent", "countTokens")
BOTH = ("gemini", "vertex")

SERVED: dict[str, dict[str, Any]] = {
    # text
    "gemini-3.8-flash": {"surfaces": BOTH, "methods": GC, "vertex": "global", "thinking": ("LOW", "MEDIUM", "HIGH"),
                         "display": "Gemini 3.8 Flash", "input": 1_048_576, "output": 65_536},
    "gemini-3.6-flash": {"surfaces": BOTH, "methods": GC, "vertex": "global", "thinking": ("LOW", "MEDIUM", "HIGH"),
                         "display": "Gemini 3.6 Flash", "input": 1_048_576, "output": 65_536},
    "gemini-3.5-flash-lite": {"surfaces": BOTH, "methods": GC, "vertex": "global",
                              "thinking": ("MINIMAL", "LOW", "MEDIUM", "HIGH"), "display": "Gemini 3.5 Flash-Lite",
                              "input": 1_048_576, "output": 65_536},
    # deprecated, answered by the model they are routed to
    "gemini-3.5-flash": {"surfaces": BOTH, "methods": GC, "vertex": "global", "thinking": ("LOW", "MEDIUM", "HIGH"),
                         "display": "Gemini 3.5 Flash (routed to Gemini 3.6 Flash)", "input": 1_048_576, "output": 65_536},
    "gemini-3.7-flash": {"surfaces": BOTH, "methods": GC, "vertex": "global", "thinking": ("LOW", "MEDIUM", "HIGH"),
                         "display": "Gemini 3.7 Flash (routed to Gemini 3.8 Flash)", "input": 1_048_576, "output": 65_536},
    "gemini-3.1-flash-lite": {"surfaces": BOTH, "methods": GC, "vertex": "global",
                              "thinking": ("MINIMAL", "LOW", "MEDIUM", "HIGH"), "display": "Gemini 3.1 Flash-Lite",
                              "input": 1_048_576, "output": 65_536},
    "gemini-3.1-pro-preview": {"surfaces": BOTH, "methods": GC, "vertex": "global", "thinking": ("LOW", "MEDIUM", "HIGH"),
                               "display": "Gemini 3.1 Pro Preview", "input": 1_048_576, "output": 65_536},
    "gemini-4-argon": {"surfaces": BOTH, "methods": GC, "vertex": "global", "thinking": ("LOW", "MEDIUM", "HIGH"),
                       "display": "Gemini 4 Argon", "input": 1_048_576, "output": 65_536},
    # images
    "gemini-nano-banana-2.1": {"surfaces": BOTH, "methods": GC, "vertex": "global", "image": True,
                               "thinking": ("MINIMAL", "MEDIUM", "HIGH"), "sizes": ("1K", "2K", "4K"), "refs": 14,
                               "display": "Nano Banana 2.1"},
    "gemini-3-pro-image": {"surfaces": BOTH, "methods": GC, "vertex": "global", "image": True, "thoughts": True,
                           "sizes": ("1K", "2K", "4K"), "refs": 14, "display": "Nano Banana Pro"},
    "gemini-3.1-flash-lite-image": {"surfaces": BOTH, "methods": GC, "vertex": "global", "image": True,
                                    "sizes": ("1K",), "refs": 14, "display": "Nano Banana 2 Lite"},
    # speech
    "gemini-3.8-flash-tts": {"surfaces": BOTH, "methods": GC, "vertex": "global", "tts": "wav",
                             "display": "Gemini 3.8 Flash TTS", "input": 8_192, "output": 16_384},
    "gemini-3.8-flash-lite-tts": {"surfaces": BOTH, "methods": GC, "vertex": "global", "tts": "wav",
                                  "display": "Gemini 3.8 Flash-Lite TTS", "input": 8_192, "output": 16_384},
    "gemini-2.5-flash-preview-tts": {"surfaces": BOTH, "methods": GC, "vertex": "global", "tts": "pcm",
                                     "display": "Gemini 2.5 Flash Preview TTS (shuts down 2026-12-18)"},
    "gemini-3.5-transcribe": {"surfaces": BOTH, "methods": GC, "vertex": "global", "display": "Gemini 3.5 Transcribe"},
    # motion and music
    "veo-3.1-generate-001": {"surfaces": ("vertex",), "methods": ("predictLongRunning", "fetchPredictOperation"),
                             "vertex": "region", "display": "Veo 3.1"},
    "veo-3.1-fast-generate-001": {"surfaces": ("vertex",), "methods": ("predictLongRunning", "fetchPredictOperation"),
                                  "vertex": "region", "display": "Veo 3.1 Fast"},
    "veo-3.1-lite-generate-001": {"surfaces": ("vertex",), "methods": ("predictLongRunning", "fetchPredictOperation"),
                                  "vertex": "region", "display": "Veo 3.1 Lite"},
    "lyria-002": {"surfaces": ("vertex",), "methods": ("predict",), "vertex": "region", "display": "Lyria 2"},
    "gemini-omni-1.2-flash": {"surfaces": ("gemini",), "methods": ("interactions",), "display": "Gemini Omni 1.2 Flash",
                              "video": True, "seconds": (3, 15)},
    "gemini-omni-1.1-flash": {"surfaces": ("gemini",), "methods": ("interactions",), "display": "Gemini Omni 1.1 Flash",
                              "video": True, "seconds": (3, 10)},
    "lyria-3.5": {"surfaces": ("gemini",), "methods": ("interactions",), "display": "Lyria 3.5", "music": 180.0},
    "lyria-3-clip-preview": {"surfaces": ("gemini",), "methods": ("interactions",), "display": "Lyria 3 Clip Preview",
                             "music": 30.0},
}

RETIRED = {
    "gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-image", "gemini-2.5-flash-image-preview",
    "gemini-2.0-flash", "gemini-2.0-flash-001", "gemini-2.0-flash-lite", "gemini-3-pro-preview",
    "gemini-3.1-flash-image", "gemini-3.1-flash-image-preview", "gemini-3-pro-image-preview",
    "imagen-4.0-generate-001", "imagen-4.0-fast-generate-001", "imagen-4.0-ultra-generate-001",
    "imagen-3.0-generate-002", "veo-3.0-generate-001", "veo-3.0-fast-generate-001", "veo-2.0-generate-001",
    "veo-3.1-generate-preview", "veo-3.1-fast-generate-preview", "veo-3.1-lite-generate-preview",
    "gemini-omni-flash-preview",
}
NEW_USERS_ONLY_GONE = {"gemini-2.5-flash-lite"}
"""Served to keys that used it before; a new key (the fake's) is told it is gone."""


def not_found(model: str, method: str, version: str) -> str:
    """The live API's 404 message for a model it does not serve (three wordings seen in 2026)."""
    if model in RETIRED:
        return (f"This model models/{model} is no longer available. Please update your code to use a newer model "
                f"for the latest features and improvements.")
    if model in NEW_USERS_ONLY_GONE:
        return f"This model models/{model} is no longer available to new users."
    return (f"models/{model} is not found for API version {version}, or is not supported for {method}. "
            f"Call ListModels to see the list of available models and their supported methods.")


def problem(model: str, method: str, *, surface: str, version: str, location: str | None) -> str | None:
    """Why this surface would answer 404 for `model`:`method`, or None when it serves it."""
    info = SERVED.get(model)
    if info is None or surface not in info["surfaces"] or (method != "get" and method not in info["methods"]):
        return not_found(model, method if method != "get" else "get", version)
    if surface == "vertex" and location is not None:
        if info.get("vertex") == "global" and location != "global":
            return (f"Publisher Model `projects/.../locations/{location}/publishers/google/models/{model}` not found. "
                    f"{model} is served on the global endpoint only.")
        if info.get("vertex") == "region" and location == "global":
            return (f"Publisher Model `projects/.../locations/global/publishers/google/models/{model}` not found. "
                    f"{model} is served in regions (us-central1, ...), not on the global endpoint.")
    return None


def resource(model: str, *, surface: str) -> dict[str, Any]:
    """The Model (Gemini API) or PublisherModel (Vertex) resource models.get returns."""
    info = SERVED[model]
    if surface == "vertex":
        return {"name": f"publishers/google/models/{model}", "versionId": "001", "openSourceCategory": "PROPRIETARY",
                "launchStage": "GA", "publisherModelTemplate": f"projects/{{project}}/locations/{{location}}/"
                                                                f"publishers/google/models/{model}"}
    body: dict[str, Any] = {"name": f"models/{model}", "baseModelId": model, "version": "001",
                            "displayName": info.get("display", model), "description": info.get("display", model),
                            "supportedGenerationMethods": list(info["methods"])}
    if "input" in info:
        body.update(inputTokenLimit=info["input"], outputTokenLimit=info["output"])
    if info.get("thinking"):
        body["thinking"] = True
    return body
