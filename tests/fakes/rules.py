"""What the real generateContent endpoint refuses, so the fake refuses it too.

Each rule names where it comes from. Every refusal is a 400 in Google's error
shape ({"error": {"code": 400, "message": ..., "status": "INVALID_ARGUMENT"}}),
with the live API's wording where it is known.

1. Unknown JSON fields. The REST API is proto JSON: an unknown name is refused
   with `Invalid JSON payload received. Unknown name "x" at 'path': Cannot find
   field.`, and both lowerCamelCase and snake_case names are accepted
   (protobuf's JSON mapping, https://protobuf.dev/programming-guides/json/).
   The field lists below follow the v1beta / v1beta1 REST reference of
   GenerateContentRequest, Content, Part, Tool, FunctionDeclaration, Schema,
   GenerationConfig and their children (ai.google.dev/api/generate-content,
   ai.google.dev/api/caching#Content, cloud.google.com/vertex-ai/docs/reference/rest).
   Struct and Value fields (functionCall.args, functionResponse.response,
   parametersJsonSchema, ...) take any JSON.
2. Function-calling turn order (ai.google.dev/gemini-api/docs/function-calling;
   the messages are the live API's, as reported in gemini-cli #4504, #2321,
   #7410, #11814 and langchain #27799):
   - a model turn with N functionCall parts is followed at once by a user turn
     with exactly N functionResponse parts, with the same names, in the same
     order, and the same ids where the calls had ids;
   - a functionResponse part only in the turn right after a call turn;
   - a function-call turn comes right after a user turn (or a response turn),
     never first and never after another model turn.
3. Roles are "user" or "model"; a content has at least one part.
4. Thought signatures (ai.google.dev/gemini-api/docs/thought-signatures): for
   Gemini 3 models, in the current turn (everything after the last user turn
   that carries text rather than function responses), the first functionCall
   part of every model step must carry the thoughtSignature the model gave it,
   else "Function call is missing a thought_signature in functionCall parts".
"""

from __future__ import annotations

import re
from typing import Any

from director.voices import GEMINI_VOICES

ANY = "ANY"  # a google.protobuf.Struct / Value: any JSON

SCHEMA: dict[str, Any] = {}  # filled below (Schema is recursive)
SCHEMA.update({
    "type": None, "format": None, "title": None, "description": None, "nullable": None, "enum": None,
    "maxItems": None, "minItems": None, "properties": ("map", SCHEMA), "required": None,
    "minProperties": None, "maxProperties": None, "minLength": None, "maxLength": None, "pattern": None,
    "example": ANY, "anyOf": SCHEMA, "propertyOrdering": None, "default": ANY, "items": SCHEMA,
    "minimum": None, "maximum": None,
})
BLOB = {"mimeType": None, "data": None, "displayName": None}
FILE_DATA = {"mimeType": None, "fileUri": None, "displayName": None}
FUNCTION_CALL = {"id": None, "name": None, "args": ANY}
FUNCTION_RESPONSE = {"id": None, "name": None, "response": ANY, "willContinue": None, "scheduling": None,
                     "parts": ANY}
PART = {
    "text": None, "inlineData": BLOB, "functionCall": FUNCTION_CALL, "functionResponse": FUNCTION_RESPONSE,
    "fileData": FILE_DATA, "executableCode": {"language": None, "code": None},
    "codeExecutionResult": {"outcome": None, "output": None}, "thought": None, "thoughtSignature": None,
    "videoMetadata": {"startOffset": None, "endOffset": None, "fps": None}, "partMetadata": ANY,
    "mediaResolution": ANY, "speechMetadata": {"speaker": None, "style": None},
}
CONTENT = {"role": None, "parts": PART}
FUNCTION_DECLARATION = {"name": None, "description": None, "behavior": None, "parameters": SCHEMA,
                        "parametersJsonSchema": ANY, "response": SCHEMA, "responseJsonSchema": ANY}
TOOL = {"functionDeclarations": FUNCTION_DECLARATION, "googleSearchRetrieval": ANY, "codeExecution": ANY,
        "googleSearch": ANY, "urlContext": ANY, "computerUse": ANY, "fileSearch": ANY, "googleMaps": ANY,
        "retrieval": ANY, "enterpriseWebSearch": ANY}
TOOL_CONFIG = {"functionCallingConfig": {"mode": None, "allowedFunctionNames": None}, "retrievalConfig": ANY}
VOICE_CONFIG = {"prebuiltVoiceConfig": {"voiceName": None}, "voice": None, "replicatedVoiceConfig": ANY}
SPEECH_CONFIG = {
    "voiceConfig": VOICE_CONFIG,
    "multiSpeakerVoiceConfig": {"speakerVoiceConfigs": {"speaker": None, "voiceConfig": VOICE_CONFIG}},
    "languageCode": None,
}
GENERATION_CONFIG = {
    "stopSequences": None, "responseMimeType": None, "responseSchema": SCHEMA, "responseJsonSchema": ANY,
    "responseModalities": None, "candidateCount": None, "maxOutputTokens": None, "temperature": None,
    "topP": None, "topK": None, "seed": None, "presencePenalty": None, "frequencyPenalty": None,
    "responseLogprobs": None, "logprobs": None, "enableEnhancedCivicAnswers": None, "speechConfig": SPEECH_CONFIG,
    "thinkingConfig": {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None},
    "imageConfig": {"aspectRatio": None, "imageSize": None, "personGeneration": None, "prominentPeople": None,
                    "imageOutputOptions": ANY},
    "mediaResolution": None, "audioTimestamp": None, "audioTranscriptionConfig": ANY,
}
GENERATE_CONTENT_REQUEST = {
    "model": None, "contents": CONTENT, "tools": TOOL, "toolConfig": TOOL_CONFIG,
    "safetySettings": {"category": None, "threshold": None, "method": None}, "systemInstruction": CONTENT,
    "generationConfig": GENERATION_CONFIG, "cachedContent": None, "labels": ANY, "serviceTier": None,
}


PREDICT_REQUEST = {"instances": ANY, "parameters": ANY, "labels": ANY}
"""Vertex PredictRequest (:predict, :predictLongRunning); instances and parameters are protobuf Values."""
FETCH_OPERATION_REQUEST = {"operationName": None}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def unknown_field(value: Any, spec: Any, path: str = "") -> str | None:
    """The first name in `value` that `spec` does not know, as the API words it."""
    if spec is ANY or spec is None:
        return None
    if isinstance(spec, tuple):  # ("map", value spec): keys are free
        if isinstance(value, dict):
            for key, item in value.items():
                found = unknown_field(item, spec[1], f"{path}[{key}]")
                if found:
                    return found
        return None
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = unknown_field(item, spec, f"{path}[{i}]")
            if found:
                return found
        return None
    if not isinstance(value, dict):
        return None
    for key, item in value.items():
        name = camel(key)
        if name not in spec:
            where = path or "(root)"
            return f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
        found = unknown_field(item, spec[name], f"{path}.{snake(name)}" if path else snake(name))
        if found:
            return found
    return None


def _field(d: dict[str, Any], name: str) -> Any:
    """A field by its camelCase or snake_case name."""
    return d.get(name, d.get(snake(name)))


PAIRING = ("Please ensure that the number of function response parts is equal to the number of function call "
           "parts of the function call turn.")
RESPONSE_AFTER_CALL = "Please ensure that function response turn comes immediately after a function call turn."
CALL_AFTER_USER = ("Please ensure that function call turn comes immediately after a user turn or after a function "
                   "response turn.")
MISSING_SIGNATURE = ("Function call is missing a thought_signature in functionCall parts. This is required for "
                     "tools to work correctly, and missing thought_signature may lead to degraded model "
                     "performance. Additional data, function call `default_api:{name}` , position {position}. "
                     "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")


def turn_order(contents: list[dict[str, Any]]) -> str | None:
    """The first function-calling turn rule the conversation breaks, in the API's words."""
    for i, content in enumerate(contents):
        role = content.get("role")
        parts = content.get("parts") or []
        if role not in ("user", "model"):
            return f"Please use a valid role: user, model. (contents[{i}] has role {role!r})"
        if not parts:
            return f"contents[{i}].parts must not be empty."
        calls = [_field(p, "functionCall") for p in parts if _field(p, "functionCall") is not None]
        responses = [_field(p, "functionResponse") for p in parts if _field(p, "functionResponse") is not None]
        if calls and role != "model" or responses and role != "user":
            return f"contents[{i}]: function calls come from the model and function responses from the user."
        if responses:
            before = contents[i - 1] if i else None
            if before is None or not any(_field(p, "functionCall") is not None for p in before.get("parts") or []):
                return RESPONSE_AFTER_CALL
        if calls:
            before = contents[i - 1] if i else None
            if before is None or before.get("role") != "user":
                return CALL_AFTER_USER
            after = contents[i + 1] if i + 1 < len(contents) else None
            answers = [_field(p, "functionResponse") for p in (after or {}).get("parts") or []
                       if _field(p, "functionResponse") is not None]
            if len(answers) != len(calls):
                return PAIRING
            for call, answer in zip(calls, answers):
                if answer.get("name") != call.get("name"):
                    return (f"function response name {answer.get('name')!r} does not match the function call "
                            f"name {call.get('name')!r} at the same position.")
                if call.get("id") and answer.get("id") != call.get("id"):
                    return (f"function response id {answer.get('id')!r} does not match the function call "
                            f"id {call.get('id')!r} at the same position.")
    return None


def proto_bytes(value: str) -> bytes | None:
    """Proto JSON bytes: standard or URL-safe base64, padded or not."""
    import base64
    import binascii

    try:
        return base64.urlsafe_b64decode(value.replace("+", "-").replace("/", "_") + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def signatures(contents: list[dict[str, Any]], issued: set[str]) -> str | None:
    """Gemini 3: every model step of the current turn starts its calls with the signature it was given."""
    start = 0
    for i, content in enumerate(contents):
        parts = content.get("parts") or []
        if content.get("role") == "user" and any("text" in p for p in parts) \
                and not any(_field(p, "functionResponse") is not None for p in parts):
            start = i + 1
    for content in contents[start:]:
        if content.get("role") != "model":
            continue
        parts = content.get("parts") or []
        for position, part in enumerate(parts):
            call = _field(part, "functionCall")
            if call is None:
                continue
            signature = _field(part, "thoughtSignature")
            if not signature:
                return MISSING_SIGNATURE.format(name=call.get("name"), position=position + 1)
            if proto_bytes(signature) not in {proto_bytes(s) for s in issued}:
                return "Corrupted thought signature."
            break  # only the first call of a step carries one
    return None


def refuse(body: Any, model: str, issued: set[str]) -> str | None:
    """Why the real API would refuse this generateContent body, or None."""
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    problem = unknown_field(body, GENERATE_CONTENT_REQUEST)
    if problem:
        return problem
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "contents is not specified"
    problem = turn_order(contents)
    if problem:
        return problem
    if model.startswith("gemini-3"):
        return signatures(contents, issued)
    return None


def model_problem(body: dict[str, Any], info: dict[str, Any]) -> str | None:
    """What this model refuses in a well-formed body (what it makes, how it thinks, its limits).

    - Gemini 3 models take a thinkingLevel from their own list (3.8 Flash refuses MINIMAL), never with a
      thinkingBudget (ai.google.dev/gemini-api/docs/gemini-3, thinking).
    - Only image models answer IMAGE, only speech models AUDIO, and a speech model answers nothing else.
    - The 3.8 TTS models refuse temperature, topP and topK (INVALID_ARGUMENT; Vertex TTS migration guide).
    - Image models take the imageSize values and the number of input pictures they document (up to 14).
    - Multi-speaker speech names exactly two speakers, and every part's speaker is one of them.
    - A voice is one of the 30 prebuilt voices (ai.google.dev/gemini-api/docs/speech-generation#voices).
    """
    config = _field(body, "generationConfig") or {}
    thinking = _field(config, "thinkingConfig") or {}
    level = _field(thinking, "thinkingLevel")
    if level is not None:
        allowed = info.get("thinking") or ()
        if str(level).upper() not in allowed:
            return (f"Thinking level {level} is not supported for this model"
                    + (f"; supported levels: {', '.join(allowed)}." if allowed else "."))
        if _field(thinking, "thinkingBudget") is not None:
            return "thinking_budget and thinking_level cannot be set at the same time."
    modalities = {str(m).upper() for m in _field(config, "responseModalities") or []}
    if "IMAGE" in modalities and not info.get("image"):
        return "The requested combination of response modalities (IMAGE) is not supported by the model."
    if "AUDIO" in modalities and not info.get("tts"):
        return "The requested combination of response modalities (AUDIO) is not supported by the model."
    if info.get("tts") and modalities != {"AUDIO"}:
        return "This model only supports the AUDIO response modality."
    if info.get("tts") == "wav":
        for name in ("temperature", "topP", "topK"):
            if _field(config, name) is not None:
                return f"{name} is not supported by this model."
        speech = _field(config, "speechConfig") or {}
        multi = _field(speech, "multiSpeakerVoiceConfig")
        named = [_field(_field(_field(c, "voiceConfig") or {}, "prebuiltVoiceConfig") or {}, "voiceName")
                 for c in (_field(multi or {}, "speakerVoiceConfigs") or [])]
        named.append(_field(_field(_field(speech, "voiceConfig") or {}, "prebuiltVoiceConfig") or {}, "voiceName"))
        for voice in named:
            if voice is not None and voice not in GEMINI_VOICES:
                return f"Voice name {voice} is not supported. Choose one of the prebuilt voices."
        if multi is not None:
            if _field(speech, "voiceConfig") is not None:
                return "voice_config and multi_speaker_voice_config are mutually exclusive."
            speakers = [_field(c, "speaker") for c in _field(multi, "speakerVoiceConfigs") or []]
            if len(speakers) != 2:
                return "Exactly two speaker voice configurations must be provided."
            named = {_field(_field(p, "speechMetadata") or {}, "speaker") for c in body.get("contents") or []
                     for p in c.get("parts") or []} - {None}
            if not named <= set(speakers):
                return f"speech_metadata.speaker {sorted(named - set(speakers))[0]!r} matches no speaker voice config."
    if info.get("image"):
        size = _field(_field(config, "imageConfig") or {}, "imageSize")
        if size is not None and size not in info.get("sizes", ()):
            return f"Image size {size} is not supported by this model; supported: {', '.join(info.get('sizes', ()))}."
        pictures = sum(1 for c in body.get("contents") or [] for p in c.get("parts") or []
                       if _field(p, "inlineData") is not None)
        if pictures > info.get("refs", 14):
            return f"Too many input images: {pictures}; this model takes at most {info.get('refs', 14)}."
    return None


# --- Lyria 2 (lyria-002:predict) --------------------------------------------------------
# cloud.google.com/vertex-ai/generative-ai/docs/model-reference/lyria-music-generation:
# instances: [{prompt (required, US English), negative_prompt, seed (integer)}],
# parameters: {sample_count (integer)}; "seed ... cannot be used with sample_count" in the same request.
# instances and parameters are protobuf Values, so the model's own handler checks these names;
# the fake refuses a name it does not document, in either spelling it does not use.
LYRIA_INSTANCE = ("prompt", "negative_prompt", "seed")
LYRIA_PARAMETERS = ("sample_count",)


def lyria_problem(body: dict[str, Any]) -> str | None:
    """Why Lyria 2 would refuse this :predict body, or None."""
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances:
        return "instances must hold one instance with a prompt"
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        return "parameters must be an object"
    for name in parameters:
        if name not in LYRIA_PARAMETERS:
            return f'Invalid parameter "{name}" for lyria-002; known: {", ".join(LYRIA_PARAMETERS)}'
    count = parameters.get("sample_count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        return "sample_count must be a positive integer"
    for instance in instances:
        if not isinstance(instance, dict):
            return "each instance must be an object"
        for name in instance:
            if name not in LYRIA_INSTANCE:
                return f'Invalid field "{name}" in instance for lyria-002; known: {", ".join(LYRIA_INSTANCE)}'
        prompt = instance.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            return "prompt is required"
        seed = instance.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32):
            return "seed must be an unsigned 32-bit integer"
        if seed is not None and count is not None:
            return "seed and sample_count cannot be used together in the same request"
    return None


# --- Veo 3.1 (predictLongRunning) ----------------------------------------------------------
# cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation and the Gemini API Veo
# guide (ai.google.dev/gemini-api/docs/video, last updated 2026-09-17): the instance takes a prompt and at
# most one of image or video (an extension); lastFrame only with an image; referenceImages (1-3 assets,
# 16:9, 8 s) with none of them. durationSeconds is 4, 6 or 8, and must be 8 at 1080p or 4k, for an
# extension and with reference images; an extension is 720p; Lite makes no 4k.
VEO_INSTANCE = ("prompt", "image", "lastFrame", "video", "referenceImages")
VEO_PARAMETERS = ("aspectRatio", "durationSeconds", "resolution", "generateAudio", "negativePrompt", "seed",
                  "personGeneration", "sampleCount", "storageUri", "compressionQuality", "enhancePrompt",
                  "resizeMode", "fps", "pubsubTopic")
MEDIA = ("bytesBase64Encoded", "gcsUri", "mimeType")


def veo_problem(body: dict[str, Any], model: str) -> str | None:
    """Why Veo 3.1 would refuse this predictLongRunning body, or None."""
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1 or not isinstance(instances[0], dict):
        return "instances must hold exactly one instance"
    instance, params = instances[0], body.get("parameters") or {}
    for name in instance:
        if name not in VEO_INSTANCE:
            return f'Invalid JSON payload received. Unknown name "{name}" at \'instances[0]\': Cannot find field.'
    for name in params:
        if name not in VEO_PARAMETERS:
            return f'Invalid JSON payload received. Unknown name "{name}" at \'parameters\': Cannot find field.'
    for part in ("image", "lastFrame", "video"):
        media = instance.get(part)
        if media is None:
            continue
        if not isinstance(media, dict) or set(media) - set(MEDIA) or \
                ("bytesBase64Encoded" in media) == ("gcsUri" in media) or not media.get("mimeType"):
            return f"{part} must carry exactly one of bytesBase64Encoded or gcsUri, and a mimeType"
    if "lastFrame" in instance and "image" not in instance:
        return "lastFrame must be used in combination with image."
    if "image" in instance and "video" in instance:
        return "image is not allowed when video is provided."
    refs = instance.get("referenceImages")
    if refs is not None and (not isinstance(refs, list) or not 1 <= len(refs) <= 3 or
                             {"image", "lastFrame", "video"} & set(instance) or not instance.get("prompt")):
        return "referenceImages take 1 to 3 asset images and a prompt, and no image, lastFrame or video."
    if not instance.get("prompt") and "image" not in instance:
        return "prompt is required."
    aspect = params.get("aspectRatio", "16:9")
    if aspect not in ("16:9", "9:16"):
        return f"Unsupported aspect ratio: {aspect}. Supported: 16:9, 9:16."
    seconds = params.get("durationSeconds", 8)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds not in (4, 6, 8):
        return f"durationSeconds must be 4, 6 or 8 (got {seconds!r})."
    resolution = params.get("resolution", "720p")
    allowed = ("720p", "1080p") if "lite" in model else ("720p", "1080p", "4k")
    if resolution not in allowed:
        return f"resolution must be one of {', '.join(allowed)} for {model} (got {resolution!r})."
    if seconds != 8 and (resolution in ("1080p", "4k") or "video" in instance or refs is not None):
        return "durationSeconds must be 8 when using extension, reference images or 1080p and 4k resolutions."
    if "video" in instance and resolution != "720p":
        return "Video extension is only supported at 720p."
    if refs is not None and aspect != "16:9":
        return "Reference images support only the 16:9 aspect ratio."
    seed = params.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32):
        return "seed must be an unsigned 32-bit integer."
    person = params.get("personGeneration")
    if person is not None and person not in ("allow_adult", "dont_allow", "allow_all"):
        return f"personGeneration must be allow_adult, dont_allow or allow_all (got {person!r})."
    audio = params.get("generateAudio")
    if audio is not None and not isinstance(audio, bool):
        return "generateAudio must be a boolean."
    count = params.get("sampleCount", 1)
    if not isinstance(count, int) or not 1 <= count <= 4:
        return "sampleCount must be from 1 to 4."
    return None


# --- the Interactions API (POST /v1beta/interactions), for Gemini Omni Flash -----------------------------
# google-genai 3.6.1's generated types (google/genai/_gaos/types/interactions: createmodelinteraction.py,
# generationconfig.py, videoconfig.py, videoresponseformat.py, the content blocks) and Google's Omni guide:
# snake_case JSON; a video answer is asked for with response_format {type: video, aspect_ratio 16:9|9:16,
# resolution 360p|720p|1080p|4k, duration "<n>s", delivery inline|uri}; Omni takes no system instruction,
# temperature, top_p or stop sequences (the guide: "not supported"), and nothing says it runs on flex.
INTERACTION = {"model": None, "input": ANY, "background": None, "store": None, "stream": None,
               "previous_interaction_id": None, "generation_config": ANY, "response_format": ANY,
               "response_modalities": None, "response_mime_type": None, "system_instruction": None, "tools": ANY,
               "safety_settings": ANY, "service_tier": None, "labels": ANY, "webhook_config": ANY,
               "environment": ANY, "cached_content": None, "continuation_token": None}
GENERATION = ("video_config", "seed", "max_output_tokens", "thinking_level", "thinking_summaries", "speech_config",
              "stop_sequences", "tool_choice", "transcription_config", "temperature", "top_p", "image_config")
VIDEO_FORMAT = ("type", "aspect_ratio", "resolution", "duration", "delivery", "gcs_uri")
TASKS = ("text_to_video", "image_to_video", "reference_to_video", "edit", "extend", "upscale")
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif", "image/gif", "image/bmp",
               "image/tiff")
CONTENT_TYPES = ("text", "image", "video", "audio", "document")
VIDEO_TYPES = ("video/mp4", "video/mpeg", "video/mpg", "video/mov", "video/avi", "video/x-flv", "video/webm",
               "video/wmv", "video/3gpp")


def _unknown(name: str, where: str) -> str:
    return f'Invalid JSON payload received. Unknown name "{name}" at \'{where}\': Cannot find field.'


def contents_of(value: Any) -> list[dict[str, Any]] | str:
    """The content blocks of an interaction's input (a string, a block, blocks, or user_input steps), or why
    it is malformed."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    items = value if isinstance(value, list) else [value]
    blocks: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            return "input items must be objects"
        if item.get("type") == "user_input":
            inner = item.get("content")
            if not isinstance(inner, list):
                return "a user_input step needs a content list"
            blocks += inner
        else:
            blocks.append(item)
    return blocks


def interaction_problem(body: Any, info: dict[str, Any], model: str) -> str | None:
    """Why the Interactions API would refuse this create body for a video model, or None."""
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    for name in body:
        if name not in INTERACTION:
            return _unknown(name, "(root)")
    if not body.get("model"):
        return "model is required."
    config = body.get("generation_config") or {}
    for name in config:
        if name not in GENERATION:
            return _unknown(name, "generation_config")
    for name in ("temperature", "top_p", "stop_sequences"):
        if name in config:
            return f"{name} is not supported for {model}."
    if body.get("system_instruction") is not None:
        return f"system_instruction is not supported for {model}."
    video_config = config.get("video_config") or {}
    for name in video_config:
        if name != "task":
            return _unknown(name, "generation_config.video_config")
    if "task" in video_config and video_config["task"] not in TASKS:
        return f"Invalid value at 'generation_config.video_config.task': {video_config['task']!r}."
    seed = config.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**31):
        return "generation_config.seed must be a 32-bit integer."
    tier = body.get("service_tier")
    if tier is not None and tier not in ("flex", "standard", "priority", "deferred"):
        return f"Invalid value at 'service_tier': {tier!r}."
    if tier == "flex":
        return f"The flex service tier is not available for {model}."
    if body.get("store") is False and (body.get("background") or body.get("previous_interaction_id")):
        return "background interactions and previous_interaction_id need store to be true."
    formats = body.get("response_format")
    formats = formats if isinstance(formats, list) else [formats]
    video = [f for f in formats if isinstance(f, dict) and f.get("type") == "video"]
    if len(video) != 1:
        return f"{model} answers video: response_format needs one {{\"type\": \"video\"}} entry."
    fmt = video[0]
    for name in fmt:
        if name not in VIDEO_FORMAT:
            return _unknown(name, "response_format")
    if fmt.get("aspect_ratio", "16:9") not in ("16:9", "9:16"):
        return f"Invalid value at 'response_format.aspect_ratio': {fmt.get('aspect_ratio')!r}."
    if fmt.get("resolution", "720p") not in ("360p", "720p", "1080p", "4k"):
        return f"Invalid value at 'response_format.resolution': {fmt.get('resolution')!r}."
    if fmt.get("delivery", "inline") not in ("inline", "uri"):
        return f"Invalid value at 'response_format.delivery': {fmt.get('delivery')!r}."
    if "gcs_uri" in fmt:
        return "gcs_uri is only supported on Vertex AI."
    blocks = contents_of(body.get("input"))
    if isinstance(blocks, str):
        return blocks
    images = videos = 0
    for block in blocks:
        kind = block.get("type")
        if kind not in CONTENT_TYPES:
            return f"Invalid value at 'input.content.type': {kind!r}."
        if kind == "text" and not isinstance(block.get("text"), str):
            return "a text block needs text."
        if kind in ("image", "video"):
            images, videos = images + (kind == "image"), videos + (kind == "video")
            if block.get("mime_type") not in (IMAGE_TYPES if kind == "image" else VIDEO_TYPES):
                return f"Invalid value at 'input.content.mime_type': {block.get('mime_type')!r}."
            if ("data" in block) == ("uri" in block):
                return f"{'an' if kind == 'image' else 'a'} {kind} block carries exactly one of data or uri."
            if "data" in block and proto_bytes(str(block["data"])) is None:
                return "Invalid value at 'input.content.data': not base64."
    task = video_config.get("task")
    low, high = info["seconds"]
    if images >= 2:
        high = min(high, 10)  # first and last frame: up to 10 s
    if task == "extend":  # Vertex's "Extend videos": one video, 3 to 10 s added
        if videos != 1 or images:
            return "extend takes one video and no images."
        low, high = 3, 10
    duration = fmt.get("duration")
    if duration is not None:
        m = re.fullmatch(r"(\d+)s", str(duration))
        if not m or not low <= int(m.group(1)) <= high:
            return f"response_format.duration must be from {low}s to {high}s for {model} (got {duration!r})."
    if video_config.get("task") == "image_to_video" and not 1 <= images <= 2:
        return "image_to_video takes one image (the first frame) or two (the first and last frames)."
    if images > 6:
        return f"{model} takes at most 6 images."
    return None


AUDIO_FORMAT = ("type", "mime_type", "sample_rate", "bit_rate", "delivery")
AUDIO_TYPES = ("audio/mp3", "audio/ogg_opus", "audio/l16", "audio/wav", "audio/alaw", "audio/mulaw")


def music_problem(body: Any, model: str) -> str | None:
    """Why the Interactions API would refuse this create body for a Lyria 3 model, or None (ai.google.dev
    music-generation: a text (or image) prompt; length, tempo and instruments are said in it)."""
    if not isinstance(body, dict):
        return "Invalid JSON payload received."
    for name in body:
        if name not in INTERACTION:
            return _unknown(name, "(root)")
    config = body.get("generation_config") or {}
    for name in config:
        if name not in GENERATION:
            return _unknown(name, "generation_config")
    if "video_config" in config:
        return f"video_config is not supported for {model}."
    formats = body.get("response_format")
    for fmt in formats if isinstance(formats, list) else [formats] if formats else []:
        if not isinstance(fmt, dict) or fmt.get("type") != "audio":
            return f"{model} answers audio: response_format must be of type audio."
        for name in fmt:
            if name not in AUDIO_FORMAT:
                return _unknown(name, "response_format")
        if fmt.get("mime_type", "audio/mp3") not in AUDIO_TYPES:
            return f"Invalid value at 'response_format.mime_type': {fmt.get('mime_type')!r}."
    blocks = contents_of(body.get("input"))
    if isinstance(blocks, str):
        return blocks
    if not any(b.get("type") == "text" and str(b.get("text", "")).strip() for b in blocks):
        return "a music prompt needs text."
    if body.get("service_tier") == "flex":
        return f"The flex service tier is not available for {model}."
    return None
