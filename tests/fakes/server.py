"""A loopback fake of the Gemini API, Vertex AI and Reve v1, for the real SDK to talk to.

It answers the REST shapes google-genai and httpx send (generateContent,
:predict, :predictLongRunning, :fetchPredictOperation, operations, files
download, Reve create/edit/remix, an OAuth token endpoint) with scripted or
computed responses, can inject latency, 429s with RetryInfo, 5xx and safety
blocks, and records every request so tests assert on what was actually sent.

The default brain is a small policy over the conversation it receives: it
calls write_story, then every image and narration in one turn, then the
clips, then assembly, and retries a failed scene only after a later user
message asks it to. Tests can replace any answer with enqueue().
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import re
import subprocess
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from tests.fakes import loopback, rules, served

MODEL_PATH = re.compile(
    r"^/(?P<version>v1|v1beta|v1beta1|v1alpha)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?"
    r"(?:publishers/google/)?models/(?P<model>[^/:]+):(?P<method>\w+)$"
)
MODEL_GET = re.compile(
    r"^/(?P<version>v1|v1beta|v1beta1|v1alpha)/(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?"
    r"(?P<publisher>publishers/google/)?models(?:/(?P<model>[^/:]+))?$"
)
INTERACTION_PATH = re.compile(r"^/(?P<version>v1|v1beta)/interactions(?:/(?P<id>[^/:]+))?(?P<cancel>/cancel)?$")
BILLABLE = {"brain", "story", "image", "tts", "text", "transcript", "continuity", "veo", "lyria", "omni", "lyria3",
            "reve_create", "reve_edit", "reve_remix"}
"""Request kinds a provider charges for when they succeed (models.get, polls and downloads are free)."""
STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}
IMAGE_SIZES = {"16:9": (1344, 768), "9:16": (768, 1344), "1:1": (1024, 1024), None: (1024, 1024)}


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any
    kind: str
    model: str | None = None
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """Every text part of a generateContent request, joined."""
        parts = []
        for content in (self.body or {}).get("contents", []):
            for part in content.get("parts", []):
                if "text" in part:
                    parts.append(part["text"])
        return "\n".join(parts)

    def inline_parts(self) -> list[dict[str, Any]]:
        """Inline blobs as {"mimeType", "data"}; google-genai 3.x sends mime_type, which proto-JSON accepts."""
        blobs = [part.get("inlineData") or part.get("inline_data") for content in (self.body or {}).get("contents", [])
                 for part in content.get("parts", []) if "inlineData" in part or "inline_data" in part]
        return [{"mimeType": b.get("mimeType") or b.get("mime_type", ""), "data": b.get("data", "")} for b in blobs]


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


@dataclass
class Fault:
    kind: str
    times: int
    status: int
    retry_delay: str | None = None
    retry_after: str | None = None
    message: str | None = None
    when: Callable[[Request], bool] | None = None


def google_error(status: int, message: str, *, retry_delay: str | None = None) -> dict[str, Any]:
    details = []
    if retry_delay:
        details.append({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay})
    return {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN"),
                      "details": details}}


def png(width: int, height: int, seed: str) -> bytes:
    digest = hashlib.sha256(seed.encode()).digest()
    top, bottom = tuple(digest[:3]), tuple(digest[3:6])
    im = Image.new("RGB", (width, height))
    d = ImageDraw.Draw(im)
    for y in range(0, height, 4):
        t = y / height
        d.rectangle((0, y, width, y + 4), fill=tuple(int(top[i] * (1 - t) + bottom[i] * t) for i in range(3)))
    d.ellipse((width * 0.3, height * 0.3, width * 0.7, height * 0.9), fill=tuple(digest[6:9]))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return buf.getvalue()


def pcm_tone(seconds: float, rate: int = 24_000, voice: str | None = None) -> bytes:
    """A stand-in for speech: a warbling tone whose pitch is the voice's own (a different voice sounds different)."""
    t = np.arange(int(seconds * rate)) / rate
    pitch = 220.0 if voice is None else 110 * 2 ** ((hashlib.sha256(voice.encode()).digest()[0] % 24) / 12)
    wave = 0.3 * np.sin(2 * np.pi * pitch * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (wave * 32767).astype("<i2").tobytes()


def speech_pcm(body: dict[str, Any], rate: int = 24_000) -> bytes:
    """What TTS says for a request: one voice reading the text, or each multi-speaker turn in its speaker's voice
    with a pause between turns."""
    speech = ((body.get("generationConfig") or {}).get("speechConfig") or {})
    parts = [p for c in body.get("contents") or [] for p in c.get("parts") or [] if p.get("text")]
    multi = speech.get("multiSpeakerVoiceConfig")
    if multi:
        voices = {c.get("speaker"): ((c.get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}).get("voiceName")
                  for c in multi.get("speakerVoiceConfigs") or []}
        pause = bytes(2 * int(0.4 * rate))
        return pause.join(pcm_tone(max(0.6, 0.055 * len(p["text"])), rate,
                                   voices.get((p.get("speechMetadata") or {}).get("speaker"))) for p in parts)
    voice = ((speech.get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}).get("voiceName")
    return pcm_tone(max(0.6, 0.055 * sum(len(p["text"]) for p in parts)), rate, voice)


def music_wav(seed: str, seconds: float = 30.0, rate: int = 48_000) -> bytes:
    """An instrumental stand-in: a soft three-note chord, its root from the seed, as 16-bit stereo WAV."""
    import wave

    root = 110 * 2 ** ((hashlib.sha256(seed.encode()).digest()[0] % 12) / 12)
    t = np.arange(int(seconds * rate)) / rate
    chord = sum(np.sin(2 * np.pi * root * r * t) for r in (1.0, 1.25, 1.5)) / 3
    pcm = (0.25 * chord * (0.7 + 0.3 * np.sin(2 * np.pi * 0.5 * t)) * 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.repeat(pcm, 2).tobytes())
    return buf.getvalue()


def wav(pcm: bytes, rate: int = 24_000) -> bytes:
    """16-bit mono PCM as a WAV file (what the 3.8 TTS models answer with)."""
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return buf.getvalue()


_mp4_cache: dict[tuple[float, int, int, bool], bytes] = {}
_mp4_lock = threading.Lock()
VIDEO_SIZES = {("720p", "16:9"): (1280, 720), ("720p", "9:16"): (720, 1280), ("1080p", "16:9"): (1920, 1080),
               ("1080p", "9:16"): (1080, 1920), ("4k", "16:9"): (3840, 2160), ("4k", "9:16"): (2160, 3840),
               ("360p", "16:9"): (640, 360), ("360p", "9:16"): (360, 640)}


def mp4(seconds: float, width: int = 1280, height: int = 720, *, audio: bool = True,
        speech: tuple[tuple[float, float], ...] = ()) -> bytes:
    """A generated clip: H.264 at 24 fps (Veo's and Omni's rate), with an AAC track when the model made sound:
    quiet ambience, and a louder warbling voice over each (start, end) of `speech` (a line said on screen)."""
    import imageio_ffmpeg

    key = (round(seconds, 3), width, height, audio, speech)
    with _mp4_lock:
        if key not in _mp4_cache:
            said = "+".join(f"between(t,{a:.2f},{b:.2f})" for a, b in speech) or "0"
            voice = f"0.05*sin(2*PI*330*t)+0.5*sin(2*PI*180*t)*(0.6+0.4*sin(2*PI*4*t))*({said})"
            sound = ["-f", "lavfi", "-i", f"aevalsrc='{voice}':s=44100:d={seconds}"] if audio else []
            proc = subprocess.run(
                [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                 f"testsrc2=size={width}x{height}:rate=24:duration={seconds}", *sound, "-c:v", "libx264",
                 "-preset", "ultrafast", "-pix_fmt", "yuv420p", *(["-c:a", "aac", "-shortest"] if audio else ["-an"]),
                 "-movflags", "+faststart+frag_keyframe", "-f", "mp4", "pipe:1"], capture_output=True, check=True)
            _mp4_cache[key] = proc.stdout
        return _mp4_cache[key]


def said_lines(prompt: str, seconds: float) -> tuple[tuple[float, float], ...]:
    """When a video model with sound says the lines its prompt quotes ('At about 6 s, Pip says: "..."'): at the
    second asked, as long as the words take, ending before the next line."""
    asked = [(float(at), max(0.8, 0.055 * len(words)))
             for at, words in re.findall(r'At about (\d+(?:\.\d+)?) s, [^:\n]+ says: "([^"]+)"', prompt)]
    return tuple((at, min(at + length, nxt - 0.3)) for (at, length), nxt in
                 zip(asked, [a for a, _ in asked[1:]] + [float(seconds) + 0.3]))


def song_mp3(seed: str, seconds: float) -> bytes:
    """Lyria 3's answer: 44.1 kHz stereo MP3, a chord that changes with the prompt and seed."""
    import imageio_ffmpeg

    root = 110 * 2 ** ((hashlib.sha256(seed.encode()).digest()[0] % 12) / 12)
    tones = "+".join(f"0.2*sin(2*PI*{root * r:.2f}*t)" for r in (1.0, 1.25, 1.5))
    proc = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i",
                           f"aevalsrc={tones}:s=44100:d={seconds}", "-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k",
                           "-f", "mp3", "pipe:1"], capture_output=True, check=True)
    return proc.stdout


def video_seconds(data: bytes) -> float:
    """The length of a video the client sent (an extension's input)."""
    import av

    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        return float(container.duration or 0) / 1e6


class FakeGoogle(loopback.Fake):
    """Start with start(); point GOOGLE_GEMINI_BASE_URL / GOOGLE_VERTEX_BASE_URL / REVE_BASE_URL at url."""

    def __init__(self, *, veo_polls: int = 2) -> None:
        self.requests: list[Request] = []
        self.scripts: dict[str, deque[Any]] = defaultdict(deque)
        self.faults: list[Fault] = []
        self.blocks: list[tuple[str, Callable[[Request], bool], str]] = []
        self.latency: dict[str, float] = {}
        self.veo_polls = veo_polls
        self.operations: dict[str, dict[str, Any]] = {}
        self.reve_credits: int | None = None
        self.signatures: set[str] = set()
        self.echo_headers = False
        self.chaos: random.Random | None = None
        self.chaos_rate = 0.0
        self.chaos_log: list[tuple[str, str]] = []
        self.slow_s = 1.5
        self.chaos_kinds: set[str] | None = None
        self.chaos_picks: list[str] | None = None
        self.chaos_left: int | None = None
        self.media_served: list[tuple[str, str, bool]] = []
        self.refusals: list[tuple[str, str]] = []
        self.statuses: list[int] = []
        self.stalls: dict[str, int] = {}
        """kind -> how many of the next such requests are carried out but answered too late."""
        self.interactions: dict[str, dict[str, Any]] = {}
        self.lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.base

    # -- scripting ---------------------------------------------------------------
    def enqueue(self, kind: str, reply: Any) -> None:
        """Answer the next `kind` request with `reply`: a JSON body, a Reply, or a callable(Request)."""
        self.scripts[kind].append(reply)

    def fail(self, kind: str, status: int, *, times: int = 1, retry_delay: str | None = None,
             retry_after: str | None = None, message: str | None = None,
             when: Callable[[Request], bool] | None = None) -> None:
        """The next `times` matching `kind` requests get an HTTP error."""
        self.faults.append(Fault(kind, times, status, retry_delay, retry_after, message, when))

    def block(self, kind: str, when: Callable[[Request], bool], reason: str = "IMAGE_SAFETY") -> None:
        """Matching requests get a safety refusal in the provider's own shape, until unblock()."""
        self.blocks.append((kind, when, reason))

    def unblock(self) -> None:
        self.blocks.clear()

    # -- serving -----------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parsed, raw = loopback.read(handler)
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        req = Request(handler.command, parsed.path, parsed.query,
                      {k.lower(): v for k, v in handler.headers.items()}, body, "unknown")
        try:
            reply = self._route(req)
        except Exception as exc:  # a bug in the fake: answer 500 so the test sees it, not a hang
            import traceback

            reply = Reply(500, google_error(500, f"fake crashed: {exc}\n{traceback.format_exc()}"))
        with self.lock:
            self.requests.append(req)
            self.statuses.append(reply.status)
            stalled = self.stalls.get(req.kind, 0) > 0
            if stalled:
                self.stalls[req.kind] -= 1
        if stalled:  # the request was done (a job started), but its answer comes after the client gave up
            time.sleep(self.slow_s)
        delay = self.latency.get(req.kind, 0.0)
        if delay:
            time.sleep(delay)
        payload = reply.raw if reply.raw is not None else json.dumps(reply.body or {}).encode()
        handler.send_response(reply.status)
        headers = {"content-type": "application/json", **reply.headers}
        for k, v in headers.items():
            handler.send_header(k, v)
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _route(self, req: Request) -> Reply:
        path = req.path
        if path == "/token":
            req.kind = "token"
            return Reply(body={"access_token": "fake-access-token", "expires_in": 3600, "token_type": "Bearer"})
        if path.startswith("/v1/image/"):
            req.kind = "reve_" + path.rsplit("/", 1)[-1]
            return self._respond(req, self._reve)
        i = INTERACTION_PATH.match(path)
        if i:
            return self._interactions(req, i)
        g = MODEL_GET.match(path) if req.method == "GET" else None
        if g:
            return self._models(req, g)
        m = MODEL_PATH.match(path)
        if m:
            req.model, method = m["model"], m["method"]
            surface = "vertex" if "/publishers/google/" in path else "gemini"
            missing = served.problem(req.model, method, surface=surface, version=m["version"], location=m["location"])
            if missing:
                req.kind = "not_found"
                return Reply(404, google_error(404, missing))
            if method == "generateContent":
                req.kind = self._content_kind(req.body or {})
                with self.lock:
                    issued = set(self.signatures)
                problem = rules.refuse(req.body, req.model or "", issued) or \
                    rules.model_problem(req.body, served.SERVED[req.model or ""])
                if problem:
                    self.refusals.append((req.kind, problem))
                    return Reply(400, google_error(400, problem))
                return self._respond(req, self._generate)
            spec = {"predict": rules.PREDICT_REQUEST, "predictLongRunning": rules.PREDICT_REQUEST,
                    "fetchPredictOperation": rules.FETCH_OPERATION_REQUEST}.get(method)
            problem = rules.unknown_field(req.body or {}, spec) if spec else None
            if problem:
                req.kind = method
                self.refusals.append((method, problem))
                return Reply(400, google_error(400, problem))
            if method == "predict" and (req.model or "").startswith("lyria"):
                req.kind = "lyria"
                problem = rules.lyria_problem(req.body or {})
                if problem:
                    self.refusals.append(("lyria", problem))
                    return Reply(400, google_error(400, problem))
                return self._respond(req, self._lyria)
            if method == "predictLongRunning":
                req.kind = "veo"
                return self._respond(req, lambda r: self._veo_start(r, path, m))
            if method == "fetchPredictOperation":
                req.kind = "veo_poll"
                return self._respond(req, lambda r: self._veo_poll(r.body.get("operationName", "")))
        if re.match(r"^/v1beta/operations/", path) or re.match(r"^/v1beta/models/[^/]+/operations/", path):
            req.kind = "veo_poll"
            return self._respond(req, lambda r: self._veo_poll(path.split("/v1beta/", 1)[1], gemini=True))
        if re.match(r"^/v1beta/files/[^/:]+:download$", path):
            req.kind = "download"
            return Reply(raw=mp4(4, audio=False), headers={"content-type": "video/mp4"})
        req.kind = "unknown"
        return Reply(404, google_error(404, f"fake has no route for {req.method} {path}"))

    def _models(self, req: Request, g: re.Match[str]) -> Reply:
        """models.get and models.list (free): the Model resource of a served model, the real 404 otherwise."""
        surface = "vertex" if g["publisher"] else "gemini"
        if g["model"] is None:
            req.kind = "model_list"
            names = sorted(m for m, info in served.SERVED.items() if surface in info["surfaces"])
            query = dict(p.split("=", 1) for p in req.query.split("&") if "=" in p)
            size = max(1, min(int(query.get("pageSize", 50) or 50), 1000))
            start = int(query.get("pageToken") or 0)
            page = [served.resource(n, surface=surface) for n in names[start:start + size]]
            body: dict[str, Any] = {"publisherModels" if surface == "vertex" else "models": page}
            if start + size < len(names):
                body["nextPageToken"] = str(start + size)
            return Reply(body=body)
        req.kind, req.model = "model_get", g["model"]
        missing = served.problem(g["model"], "get", surface=surface, version=g["version"], location=g["location"])
        if missing:
            return Reply(404, google_error(404, missing))
        return Reply(body=served.resource(g["model"], surface=surface))

    def _interactions(self, req: Request, i: re.Match[str]) -> Reply:
        """The Interactions API, as far as Omni video goes: create (in the background or not), get, cancel,
        delete. An interaction answers with its video once polled veo_polls times."""
        if not req.headers.get("x-goog-api-key"):
            req.kind = "omni"
            return Reply(401, google_error(401, "API key not valid. Please pass a valid API key."))
        if i["id"] is None and req.method == "POST":
            body = req.body if isinstance(req.body, dict) else {}
            req.model = str(body.get("model") or "")
            info = served.SERVED.get(req.model or "")
            if info is None or "interactions" not in info["methods"]:
                req.kind = "not_found"
                return Reply(404, google_error(404, served.not_found(req.model or "", "interactions", i["version"])))
            if info.get("music"):
                req.kind = "lyria3"
                problem = rules.music_problem(req.body, req.model or "")
                if problem:
                    self.refusals.append(("lyria3", problem))
                    return Reply(400, google_error(400, problem))
                return self._respond(req, self._song)
            req.kind = "omni"
            problem = rules.interaction_problem(req.body, info, req.model or "")
            if problem:
                self.refusals.append(("omni", problem))
                return Reply(400, google_error(400, problem))
            return self._respond(req, self._omni_create)
        req.kind = "omni_poll" if req.method == "GET" else "omni_cancel" if i["cancel"] else "omni_delete"
        with self.lock:
            state = self.interactions.get(i["id"] or "")
        if state is None:
            return Reply(404, google_error(404, f"Interaction {i['id']} not found."))
        if req.method == "DELETE":
            with self.lock:
                self.interactions.pop(i["id"] or "", None)
            return Reply(body={})
        if i["cancel"]:
            state["status"] = "cancelled" if state["status"] == "in_progress" else state["status"]
            return Reply(body=self._interaction(state))
        return self._respond(req, lambda r: Reply(body=self._interaction(self._advance(state))))

    def _song(self, req: Request) -> Reply:
        """Lyria 3: an MP3 as long as the prompt asks ("About 40 seconds"), else the model's own length, and the
        song's structure as text. A prompt that does not say instrumental gets a song with lyrics."""
        body = req.body or {}
        text = " ".join(b.get("text", "") for b in rules.contents_of(body.get("input")) if isinstance(b, dict))
        asked = re.search(r"(\d+)\s*seconds", text)
        seconds = min(float(asked.group(1)) if asked else 30.0, served.SERVED[req.model or ""]["music"])
        seed = str((body.get("generation_config") or {}).get("seed"))
        sung = "instrumental" not in text.lower()
        data = base64.b64encode(song_mp3(f"{text}|{seed}", seconds)).decode()
        structure = "[Verse 1] la la la" if sung else "[Intro] [Theme] [Outro] (instrumental)"
        with self.lock:
            iid = f"v1_song{len(self.interactions) + 1}"
            self.interactions[iid] = {"id": iid, "model": req.model, "status": "completed", "polls": 0,
                                      "seconds": seconds, "size": (0, 0), "text": text, "blocked": None}
        return Reply(body={"id": iid, "object": "interaction", "model": req.model, "status": "completed",
                           "steps": [{"type": "model_output", "content": [
                               {"type": "audio", "mime_type": "audio/mp3", "data": data},
                               {"type": "text", "text": structure}]}],
                           "usage": {"total_output_tokens": int(seconds * 25)}})

    def _omni_create(self, req: Request) -> Reply:
        body = req.body or {}
        fmt = next(f for f in (body["response_format"] if isinstance(body["response_format"], list)
                               else [body["response_format"]]) if f.get("type") == "video")
        text = " ".join(b.get("text", "") for b in rules.contents_of(body.get("input")) if isinstance(b, dict))
        seconds = int(str(fmt.get("duration") or "8s").rstrip("s"))
        if ((body.get("generation_config") or {}).get("video_config") or {}).get("task") == "extend":
            [video] = [b for b in rules.contents_of(body.get("input")) if b.get("type") == "video"]
            given = video_seconds(base64.b64decode(video["data"]))
            if given > 30:  # the longest video Omni extends whole (Vertex's Omni notebook: at most 30 s)
                problem = f"The input video must be at most 30 seconds long (got {given:.1f} s)."
                self.refusals.append(("omni", problem))
                return Reply(400, google_error(400, problem))
            seconds = round(given) + seconds  # the whole video, extended
        with self.lock:
            iid = f"v1_fake{len(self.interactions) + 1}"
            state = {"id": iid, "model": body["model"], "status": "in_progress", "polls": 0, "seconds": seconds,
                     "size": VIDEO_SIZES[(fmt.get("resolution") or "720p", fmt.get("aspect_ratio") or "16:9")],
                     "text": text, "blocked": None}
            self.interactions[iid] = state
        for kind, when, reason in list(self.blocks):
            if kind == "omni" and when(req):
                state["blocked"] = reason
        if not body.get("background"):
            state["polls"] = self.veo_polls
            self._advance(state)
        return Reply(body=self._interaction(state))

    def _advance(self, state: dict[str, Any]) -> dict[str, Any]:
        if state["status"] == "in_progress":
            state["polls"] += 1
            if state["polls"] >= self.veo_polls:
                state["status"] = "failed" if state["blocked"] else "completed"
        return state

    def _interaction(self, state: dict[str, Any]) -> dict[str, Any]:
        """The Interaction resource: steps with the model's video when completed, errors when failed."""
        out: dict[str, Any] = {"id": state["id"], "object": "interaction", "model": state["model"],
                               "status": state["status"], "created": "2026-12-06T12:00:00Z",
                               "updated": "2026-12-06T12:00:05Z"}
        if state["status"] == "completed":
            data = base64.b64encode(mp4(state["seconds"], *state["size"], audio=True,
                                        speech=said_lines(state["text"], state["seconds"]))).decode()
            out["steps"] = [{"type": "model_output", "content": [{"type": "video", "mime_type": "video/mp4",
                                                                   "data": data}]}]
            tokens = {640: 1931, 1280: 5792, 720: 5792, 1920: 8688, 1080: 8688}.get(state["size"][0], 17376)
            out["usage"] = {"total_output_tokens": tokens * state["seconds"],
                            "output_tokens_by_modality": [{"modality": "video", "tokens": tokens * state["seconds"]}]}
        elif state["status"] == "failed":
            out["errors"] = [{"code": "https://google.rpc/FAILED_PRECONDITION",
                              "message": f"The video was blocked by safety filters ({state['blocked']})."}]
        return out

    def billable(self) -> list[Request]:
        """The requests a provider would have charged for: model calls it answered (not models.get, polls,
        downloads, or anything refused)."""
        with self.lock:
            return [r for r, status in zip(self.requests, self.statuses) if r.kind in BILLABLE and status == 200]

    def _content_kind(self, body: dict[str, Any]) -> str:
        if body.get("tools"):
            return "brain"
        config = body.get("generationConfig") or {}
        if config.get("responseMimeType") == "application/json":
            properties = (config.get("responseSchema") or {}).get("properties") or {}
            if "characters" in properties and "scenes" not in properties:
                return "continuity"
            return "transcript" if "cues" in properties else "story"
        modalities = [m.upper() for m in config.get("responseModalities") or []]
        if "AUDIO" in modalities:
            return "tts"
        if "IMAGE" in modalities:
            return "image"
        return "text"

    def set_chaos(self, seed: int, rate: float, *, kinds: set[str] | None = None, picks: list[str] | None = None,
                  times: int | None = None) -> None:
        """Seeded random faults on model requests: 429, 500, a slow reply, malformed JSON, truncated media.

        kinds and picks narrow what is hit and how; times stops after that many faults."""
        self.chaos, self.chaos_rate = random.Random(seed), rate
        self.chaos_kinds, self.chaos_picks, self.chaos_left = kinds, picks, times

    def _chaotic(self, req: Request, reply: Reply) -> Reply:
        if self.chaos is None or req.kind in ("token", "download", "unknown"):
            return reply
        if self.chaos_kinds is not None and req.kind not in self.chaos_kinds or self.chaos_left == 0:
            return reply
        with self.lock:
            roll = self.chaos.random()
            pick = self.chaos.choice(self.chaos_picks or ["429", "500", "slow", "json", "truncate"])
        if roll >= self.chaos_rate:
            return reply
        if self.chaos_left is not None:
            self.chaos_left -= 1
        self.chaos_log.append((req.kind, pick))
        if pick == "429":
            return Reply(429, google_error(429, "Resource has been exhausted (chaos).", retry_delay="0.05s"))
        if pick == "500":
            return Reply(500, google_error(500, "Internal error encountered (chaos)."))
        if pick == "slow":
            time.sleep(self.slow_s)
            return reply
        if pick == "json":
            return Reply(200, raw=b'{"candidates": [{"content": {"parts": [{"text": "cut off')
        body = json.dumps(reply.body or {})  # truncate the media inside an otherwise well-formed answer
        body = re.sub(r'("(?:data|bytesBase64Encoded)": ")([A-Za-z0-9+/=]{400,})"',
                      lambda m: m.group(1) + m.group(2)[: len(m.group(2)) // 8 * 4] + '"', body)  # valid base64
        return Reply(reply.status, raw=body.encode(), headers=reply.headers)

    def _respond(self, req: Request, default: Callable[[Request], Reply]) -> Reply:
        reply = self._respond_plain(req, default)
        plain = reply
        if reply.status == 200 and reply.raw is None:
            reply = self._chaotic(req, reply)
        if plain.status == 200 and plain.raw is None and req.kind in ("image", "tts", "lyria"):
            whole = reply is plain or (reply.raw is None and reply.status == 200)
            key = hashlib.sha256(json.dumps(req.body, sort_keys=True).encode()).hexdigest()
            with self.lock:  # what a provider would bill: every answer that carried media, whole or not
                self.media_served.append((req.kind, key, whole and reply.status == 200))
        return reply

    def _respond_plain(self, req: Request, default: Callable[[Request], Reply]) -> Reply:
        with self.lock:
            for fault in self.faults:
                if fault.kind == req.kind and fault.times > 0 and (fault.when is None or fault.when(req)):
                    fault.times -= 1
                    return self._fault_reply(req, fault)
            script = self.scripts.get(req.kind)
            scripted = script.popleft() if script else None
        for kind, when, reason in list(self.blocks):
            if kind == req.kind and when(req):
                return self._blocked(req, reason)
        if scripted is None:
            return default(req)
        if callable(scripted):
            scripted = scripted(req)
        return scripted if isinstance(scripted, Reply) else Reply(body=scripted)

    def _fault_reply(self, req: Request, fault: Fault) -> Reply:
        headers = {"retry-after": fault.retry_after} if fault.retry_after else {}
        if self.echo_headers:  # as some proxies and APIs do: the request, headers and all, in the error body
            echo = json.dumps({"url": f"{req.path}?{req.query}", "headers": req.headers})
            return Reply(fault.status, google_error(fault.status, f"{fault.message or 'fault'}; request was {echo}",
                                                    retry_delay=fault.retry_delay), headers)
        if req.kind.startswith("reve_"):
            return Reply(fault.status, {"message": fault.message or "fault"}, {**headers, "x-reve-request-id": "rsid-fault"})
        message = fault.message or {429: "Resource has been exhausted (e.g. check quota).",
                                    500: "Internal error encountered.", 404: "Model not found."}.get(fault.status, "fault")
        return Reply(fault.status, google_error(fault.status, message, retry_delay=fault.retry_delay), headers)

    def _blocked(self, req: Request, reason: str) -> Reply:
        if req.kind == "omni":  # an interaction is accepted, then fails with the filter's reason when polled
            return self._omni_create(req)
        if req.kind in ("image", "brain", "story", "tts", "text"):
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": []}, "finishReason": reason}],
                               "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10}})
        if req.kind == "veo":
            resource = req.path.split("/", 2)[2].rsplit(":", 1)[0]
            name = f"{resource}/operations/blocked{len(self.operations) + 1}"
            self.operations[name] = {"polls": 0, "blocked": reason}
            return Reply(body={"name": name})
        if req.kind.startswith("reve_"):
            return Reply(raw=b"", headers={"content-type": "image/png", "x-reve-content-violation": "true",
                                           "x-reve-request-id": "rsid-blocked"})
        return Reply(400, google_error(400, "blocked"))

    # -- default answers ---------------------------------------------------------
    def _usage(self, req: Request, output_tokens: int, modality: str = "TEXT") -> dict[str, Any]:
        """usageMetadata as the API gives it: totals, and the tokens by modality (images 1,120 each in the
        prompt, audio 32 a second), which is how they are billed."""
        parts = req.inline_parts()
        images = sum(1 for p in parts if p["mimeType"].startswith("image/"))
        audio = sum(len(p.get("data", "")) * 3 // 4 for p in parts if p["mimeType"].startswith("audio/"))
        audio_tokens = int(audio / 32_000 * 32)  # 16 kHz 16-bit mono: 32 kB a second
        text = max(1, len(req.text) // 4 + len(json.dumps((req.body or {}).get("tools") or [])) // 4)
        details = [{"modality": "TEXT", "tokenCount": text}]
        if images:
            details.append({"modality": "IMAGE", "tokenCount": 1120 * images})
        if audio_tokens:
            details.append({"modality": "AUDIO", "tokenCount": audio_tokens})
        prompt = sum(d["tokenCount"] for d in details)
        return {"promptTokenCount": prompt, "candidatesTokenCount": output_tokens,
                "totalTokenCount": prompt + output_tokens, "promptTokensDetails": details,
                "candidatesTokensDetails": [{"modality": modality, "tokenCount": output_tokens}]}

    def _generate(self, req: Request) -> Reply:
        body = req.body or {}
        if req.kind == "brain":
            parts = brain_policy(body)
            if (req.model or "").startswith("gemini-3"):
                self._sign(parts, req)
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
                               "usageMetadata": self._usage(req, 60 * len(parts))})
        if req.kind == "story":
            story = fake_story(req.text)
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(story)}]},
                                               "finishReason": "STOP"}], "usageMetadata": self._usage(req, 900)})
        if req.kind == "transcript":
            has_audio = any(p.get("mimeType", "").startswith("audio/") for p in req.inline_parts())
            cues = [{"start": 0.2, "end": 0.9, "text": "Words heard by the fake."}] if has_audio else []
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": [
                {"text": json.dumps({"cues": cues})}]}, "finishReason": "STOP"}], "usageMetadata": self._usage(req, 30)})
        if req.kind == "continuity":
            # A model that finds every character as drawn; a test enqueues a worse verdict.
            names = re.findall(r"picture \d+ \(([^)]+)\):", req.text)
            images = [p for p in req.inline_parts() if p.get("mimeType", "").startswith("image/")]
            if len(images) != len(names) + 1:
                return Reply(400, google_error(400, f"expected {len(names) + 1} images, got {len(images)}"))
            verdict = {"characters": [{"name": n, "score": 0.93, "reason": ""} for n in names]}
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(verdict)}]},
                                               "finishReason": "STOP"}], "usageMetadata": self._usage(req, 40)})
        if req.kind == "tts":
            pcm = speech_pcm(body)
            seconds = len(pcm) / 2 / 24_000
            if served.SERVED[req.model or ""].get("tts") == "wav":  # 3.8: a whole WAV file per answer
                blob = {"mimeType": "audio/wav", "data": base64.b64encode(wav(pcm)).decode()}
            else:
                blob = {"mimeType": "audio/L16;codec=pcm;rate=24000", "data": base64.b64encode(pcm).decode()}
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": [{"inlineData": blob}]},
                                               "finishReason": "STOP"}],
                               "usageMetadata": self._usage(req, int(seconds * 25), "AUDIO")})
        if req.kind == "image":
            image_config = (body.get("generationConfig") or {}).get("imageConfig") or {}
            aspect = image_config.get("aspectRatio")
            w, h = IMAGE_SIZES.get(aspect, IMAGE_SIZES[None])
            scale = {"2K": 2, "4K": 4}.get(image_config.get("imageSize") or "1K", 1)
            parts = []
            if served.SERVED[req.model or ""].get("thoughts"):
                # A thinking image model shows its drafts first, marked as thoughts; the last image is the answer.
                draft = base64.b64encode(png(w // 4, h // 4, "draft " + req.text)).decode()
                parts.append({"inlineData": {"mimeType": "image/png", "data": draft}, "thought": True})
            data = base64.b64encode(png(w * scale, h * scale, req.text)).decode()
            parts.append({"inlineData": {"mimeType": "image/png", "data": data},
                          "thoughtSignature": base64.b64encode(b"image-signature").decode()})
            tokens = {1: 1120, 2: 1680, 4: 3780}[scale]
            return Reply(body={"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
                               "usageMetadata": self._usage(req, tokens, "IMAGE")})
        return Reply(body={"candidates": [{"content": {"role": "model", "parts": [
            {"text": "A miniature diorama of the scene, warm light, felt and clay."}]}, "finishReason": "STOP"}],
            "usageMetadata": self._usage(req, 20)})

    def _sign(self, parts: list[dict[str, Any]], req: Request) -> None:
        """Gemini 3 signs the first function call of each step; the signature must come back on it."""
        for part in parts:
            if "functionCall" in part:
                signature = base64.b64encode(hashlib.sha256(
                    f"{len(self.requests)}:{json.dumps(part)}".encode()).digest()).decode()
                part["thoughtSignature"] = signature
                with self.lock:
                    self.signatures.add(signature)
                return

    def _lyria(self, req: Request) -> Reply:
        """30 s of 48 kHz stereo WAV, as Lyria 2 returns: a chord that changes with the prompt and seed."""
        instance = (req.body or {})["instances"][0]
        return Reply(body={"predictions": [{"bytesBase64Encoded": base64.b64encode(music_wav(
            f"{instance['prompt']}|{instance.get('seed')}")).decode(), "mimeType": "audio/wav"}]})

    def _veo_start(self, req: Request, path: str, m: re.Match[str]) -> Reply:
        problem = rules.veo_problem(req.body or {}, req.model or "")
        if problem:
            self.refusals.append(("veo", problem))
            return Reply(400, google_error(400, problem))
        resource = path.split("/", 2)[2].rsplit(":", 1)[0]
        name = f"{resource}/operations/op{len(self.operations) + 1}"
        params = (req.body or {}).get("parameters") or {}
        instance = (req.body or {})["instances"][0]
        seconds = float(params.get("durationSeconds") or 8)
        resolution = params.get("resolution") or "720p"
        if "video" in instance:  # an extension: the whole video, about 7 s longer
            given = base64.b64decode(instance["video"]["bytesBase64Encoded"])
            seconds = video_seconds(given)
            if not 1 <= seconds <= 30:  # Vertex's "Extend videos": the input is 1 to 30 s, 37 s at most out
                problem = f"The input video must be between 1 and 30 seconds long (got {seconds:.1f} s)."
                self.refusals.append(("veo", problem))
                return Reply(400, google_error(400, problem))
            seconds += 7
        w, h = VIDEO_SIZES[(resolution, params.get("aspectRatio") or "16:9")]
        with self.lock:
            self.operations[name] = {"polls": 0, "seconds": seconds, "size": (w, h),
                                     "audio": bool(params.get("generateAudio")),
                                     "prompt": str(instance.get("prompt") or "")}
        return Reply(body={"name": name})

    def _veo_poll(self, name: str, gemini: bool = False) -> Reply:
        op = self.operations.get(name)
        if op is None:
            return Reply(404, google_error(404, f"operation {name} not found"))
        op["polls"] += 1
        if op["polls"] < self.veo_polls:
            return Reply(body={"name": name, "done": False})
        if "blocked" in op:
            return Reply(body={"name": name, "done": True, "response": {
                "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [op["blocked"]]}})
        video = base64.b64encode(mp4(op["seconds"], *op.get("size", (1280, 720)), audio=op.get("audio", False),
                                     speech=said_lines(op.get("prompt", ""), op["seconds"]) if op.get("audio")
                                     else ())).decode()
        return Reply(body={"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            "videos": [{"bytesBase64Encoded": video, "mimeType": "video/mp4"}]}})

    def _reve(self, req: Request) -> Reply:
        if not req.headers.get("authorization", "").startswith("Bearer "):
            return Reply(401, {"message": "missing bearer token"})
        if self.reve_credits is not None:
            if self.reve_credits <= 0:
                return Reply(402, {"message": "credits exhausted"}, {"x-reve-error-code": "INSUFFICIENT_CREDITS"})
            self.reve_credits -= 1
        body = req.body or {}
        w, h = IMAGE_SIZES.get(body.get("aspect_ratio"), (1024, 768))
        seed = body.get("prompt") or body.get("edit_instruction") or ""
        return Reply(raw=png(w, h, seed), headers={"content-type": "image/png", "x-reve-request-id": "rsid-1",
                                                     "x-reve-content-violation": "false"})


# --- the scripted brain and writer ----------------------------------------------------------------


def fake_story(prompt: str) -> dict[str, Any]:
    goal = re.search(r"Goal: (.+)", prompt)
    n = int(m.group(1)) if (m := re.search(r"exactly (\d+) scenes", prompt)) else 3
    subject = goal.group(1).strip() if goal else "a story"
    return {
        "title": f"The Fake Tale of {subject[:30]}",
        "art_style": "gouache picture-book illustration, warm palette",
        "narrator": "a warm grandparent, soft and unhurried, at bedtime",
        "characters": [{"name": "Pip", "kind": "cat", "look": "a small ginger cat with a blue scarf"},
                       {"name": "Rolo", "kind": "dog", "look": "a brown puppy with floppy ears"}],
        "places": [{"name": "the garden", "look": "a cottage garden with a red gate, sunflowers and a round pond"}],
        # Both in every scene but the third, which is Rolo's alone.
        "scenes": [{"image_prompt": f"{'Rolo' if i == 3 else 'Pip and Rolo'}, scene {i}, in the garden at golden hour",
                    "shot": "wide shot, eye level" if i == 1 else "medium shot, eye level",
                    "motion": f"{'Rolo wags his tail' if i == 3 else 'Pip and Rolo walk along the path'} as petals "
                              f"drift down; slow push in; a quiet garden afternoon; a bee hums past.",
                    "narration": f"This is scene {i}, where {'Rolo' if i == 3 else 'Pip and Rolo'} "
                                 f"{'has' if i == 3 else 'share'} a quiet moment.",
                    # As asked: an exchange between the two in scene 1, and Rolo alone in scene 3.
                    "lines": [] if "Leave lines empty" in prompt else LINES.get(i, [])}
                   for i in range(1, n + 1)],
    }


LINES = {1: [{"speaker": "Pip", "text": "Hello, Rolo! Shall we look for the frog?"},
             {"speaker": "Rolo", "text": "Yes please, Pip! I love frogs."}],
         3: [{"speaker": "Rolo", "text": "What a lovely day it has been."}]}


def _responses(body: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(call, response) pairs of the conversation, matched by id."""
    calls: dict[str, dict[str, Any]] = {}
    pairs = []
    for content in body.get("contents", []):
        for part in content.get("parts", []):
            if "functionCall" in part:
                calls[part["functionCall"].get("id", "")] = part["functionCall"]
            elif "functionResponse" in part:
                fr = part["functionResponse"]
                pairs.append((calls.get(fr.get("id", ""), {"name": fr["name"], "args": {}}), fr))
    return pairs


def trailer_policy(system: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    sources = int(m.group(1)) if (m := re.search(r"trailer from (\d+) source", system)) else 1
    k = int(m.group(1)) if (m := re.search(r"Scenes: at most (\d+)", system)) else 3
    aspect = m.group(1) if (m := re.search(r"Aspect ratio: ([0-9:]+)", system)) else "16:9"
    audio = m.group(1) if (m := re.search(r"Sound: (\w+)", system)) else "narration"
    ok: dict[str, set[Any]] = defaultdict(set)
    plan: list[dict[str, Any]] | None = None
    described: dict[int, str] = {}
    for call, fr in _responses(body):
        if "output" not in (fr.get("response") or {}):
            continue
        out, args = fr["response"]["output"], call.get("args") or {}
        if fr["name"] == "plan_trailer":
            plan = out["scenes"]
        elif fr["name"] == "describe_frame":
            described[args.get("scene")] = out["description"]
        ok[fr["name"]].add(args.get("video") or args.get("scene") or 0)
    counter = iter(range(1, 1000))

    def call(name: str, **args: Any) -> dict[str, Any]:
        return {"functionCall": {"id": f"fc-{name}-{args.get('scene') or args.get('video') or 0}-{next(counter)}",
                                 "name": name, "args": args}}

    batch = [call("detect_scenes", video=v) for v in range(1, sources + 1) if v not in ok["detect_scenes"]]
    batch += [call("transcribe", video=v) for v in range(1, sources + 1) if v not in ok["transcribe"]]
    if batch:
        return batch
    if plan is None:
        return [call("plan_trailer", max_scenes=k)]
    scenes = range(1, len(plan) + 1)
    shots: dict[int, list[int]] = defaultdict(list)
    for s in plan:
        shots[s["video"]].append(s["shot"])
    batch = [call("extract_frames", video=v, scenes=sh) for v, sh in shots.items() if v not in ok["extract_frames"]]
    if batch:
        return batch
    batch = [call("describe_frame", scene=i) for i in scenes if i not in described]
    if batch:
        return batch
    batch = [call("edit_image", scene=i, instruction=described[i], picture="frame", aspect=aspect)
             for i in scenes if i not in ok["edit_image"]]
    if audio != "source":
        batch += [call("narrate", scene=i, text=plan[i - 1]["narration"]) for i in scenes if i not in ok["narrate"]]
    if batch:
        return batch
    batch = [call("animate_image", scene=i, aspect=aspect) for i in scenes if i not in ok["animate_image"]]
    if batch:
        return batch
    if "make_music once" in system and not ok["make_music"]:
        return [call("make_music")]
    if not ok["assemble_video"]:
        return [call("assemble_video", aspect=aspect, audio=audio)]
    return [{"text": "The trailer is assembled."}]


REVISION_AT = re.compile(r"scene (\d+)[: ]+(.+)", re.I)


def revision_args(text: str, story: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """What a model would pass to revise_storyboard for a few kinds of change."""
    if m := re.match(r"^make (\w+)'s (\w+) (\w+)$", text.strip().rstrip(".")):
        name, item, colour = m.groups()
        for c in (story or {}).get("characters", []):
            if c["name"].lower() == name.lower():
                look = re.sub(rf"\b\w+ {item}\b", f"{colour} {item}", c["look"])
                return {"characters": [{"name": c["name"], "look": look}]}
        return {"characters": [{"name": name, "look": f"with a {colour} {item}"}]}
    if m := re.match(r"^give (\w+) an? (deeper|higher) voice$", text.strip().rstrip(".")):
        return {"speakers": [{"name": m.group(1), "voice": "Charon" if m.group(2) == "deeper" else "Leda"}]}
    if m := re.search(r"\b(9:16|16:9|1:1)\b", text):
        return {"aspect": m.group(1)}
    if m := REVISION_AT.search(text):
        change = m.group(2).strip()
        change = change[3:] if change.lower().startswith("at ") else change
        return {"updates": [{"scene": int(m.group(1)), "image_prompt": f"REVISED({change})"}]}
    return None


def brain_policy(body: dict[str, Any]) -> list[dict[str, Any]]:
    """What a sensible model would answer next, computed from the conversation in order.

    It writes the story, then (with approval asked for) the stills alone, then the
    narration and clips, then the cut. A user's change becomes a revise_storyboard
    call, after which the scenes it touched are made again. A response saying a call
    was "not run" leaves that work to do; a failed one is retried only after a user
    message that starts with "Resume".
    """
    system = " ".join(p.get("text", "") for p in (body.get("systemInstruction") or {}).get("parts", []))
    if "Mode: trailer" in system:
        return trailer_policy(system, body)
    scenes_n = int(m.group(1)) if (m := re.search(r"Scenes: (\d+)", system)) else 3
    aspect = m.group(1) if (m := re.search(r"Aspect ratio: ([0-9:]+)", system)) else "16:9"
    goal = m.group(1).strip() if (m := re.search(r"The run's goal: (.+)", system)) else "a story"
    approve_first = "approves paid work first" in system
    wants_music = "make_music once" in system  # the system prompt asks for the bed (--music, not none)
    music = False
    calls: dict[str, dict[str, Any]] = {}
    story: dict[str, Any] | None = None
    done: dict[str, set[int]] = defaultdict(set)
    failed: dict[str, set[int]] = defaultdict(set)
    assembled = False
    revision: str | None = None
    said_goal = False
    sheets: set[str] = set()  # characters with a reference sheet
    verdicts: dict[int, dict[str, Any]] = {}  # scene -> its still's last continuity check
    for content in body.get("contents", []):
        for part in content.get("parts", []):
            if "functionCall" in part:
                fc = part["functionCall"]
                calls[fc.get("id", "")] = fc
                if fc["name"] == "revise_storyboard":
                    revision = None
            elif "functionResponse" in part:
                fr = part["functionResponse"]
                call = calls.get(fr.get("id", ""), {})
                args = call.get("args") or {}
                scene = args.get("scene")
                response = fr.get("response") or {}
                ok = "output" in response
                if not ok and str(response.get("error", "")).startswith("not run"):
                    continue  # still to do
                if fr["name"] == "write_story" and ok:
                    story = fr["response"]["output"]
                    done.clear()
                    sheets.clear()
                    verdicts.clear()
                    assembled = False
                elif fr["name"] == "draw_character":
                    if ok:
                        sheets.add(args["character"])
                    else:
                        failed["draw_character"].add(0)
                elif fr["name"] == "check_continuity" and ok:
                    verdicts[scene] = response["output"]
                    done["check_continuity"].add(scene)
                elif fr["name"] == "revise_storyboard" and ok and story is not None:
                    assembled = False
                    if args.get("aspect"):
                        aspect = args["aspect"]
                        for tool in ("create_image", "animate_image"):
                            done[tool].clear()
                    for change in args.get("characters") or []:
                        sheets.discard(change["name"])
                        for c in story["characters"]:
                            if c["name"] == change["name"]:
                                c["look"] = change["look"]
                        for n, sc in enumerate(story["scenes"], start=1):
                            if change["name"].lower() in sc["image_prompt"].lower():
                                for tool in ("create_image", "check_continuity", "animate_image"):
                                    done[tool].discard(n)
                                verdicts.pop(n, None)
                    for change in args.get("speakers") or []:  # the scenes where they speak are voiced again
                        for n, sc in enumerate(story["scenes"], start=1):
                            if any(line["speaker"] == change["name"] for line in sc.get("lines") or []):
                                done["narrate"].discard(n)
                                done["animate_image"].discard(n)
                    for update in args.get("updates") or []:
                        n = update["scene"]
                        if update.get("image_prompt"):
                            story["scenes"][n - 1]["image_prompt"] = update["image_prompt"]
                            done["create_image"].discard(n)
                        if update.get("narration"):
                            story["scenes"][n - 1]["narration"] = update["narration"]
                            done["narrate"].discard(n)
                        done["animate_image"].discard(n)
                elif fr["name"] == "assemble_video" and ok:
                    assembled = True
                elif fr["name"] == "make_music" and ok:
                    music = True
                elif isinstance(scene, int):
                    (done if ok else failed)[fr["name"]].add(scene)
                    if ok:
                        failed[fr["name"]].discard(scene)
                    if ok and fr["name"] == "create_image":
                        verdicts.pop(scene, None)  # a new still: its check is to come
            elif "text" in part and content.get("role") == "user":
                text = part["text"].strip()
                if text.startswith("Resume"):
                    failed.clear()  # the user asked to try again
                elif said_goal and revision_args(text, story) is not None:
                    revision = text  # acted on once the story exists
                said_goal = True
    counter = iter(range(1, 1000))

    def call(name: str, **args: Any) -> dict[str, Any]:
        scene = args.get("scene")
        return {"functionCall": {"id": f"fc-{name}-{scene or 0}-{next(counter)}", "name": name, "args": args}}

    if story is None:
        return [call("write_story", goal=goal, scenes=scenes_n)]
    if revision is not None:
        return [call("revise_storyboard", **(revision_args(revision, story) or {}))]
    scenes = story["scenes"]
    pending = range(1, len(scenes) + 1)

    def cast(i: int) -> list[str]:
        return [c["name"] for c in story["characters"] if c["name"].lower() in scenes[i - 1]["image_prompt"].lower()]

    unsheeted = [m["name"] for m in story["characters"] + story.get("places", []) if m["name"] not in sheets]
    if unsheeted and not failed["draw_character"]:
        return [call("draw_character", character=name) for name in unsheeted]
    batch = []
    for i, s in enumerate(scenes, start=1):
        checked = bool(set(cast(i)) & sheets)
        if i not in done["create_image"] | failed["create_image"]:
            batch.append(call("create_image", scene=i, prompt=s["image_prompt"], aspect=aspect))
            if checked:
                batch.append(call("check_continuity", scene=i))
        elif checked and i in verdicts and verdicts[i].get("retake"):
            fix = "; ".join(verdicts[i].get("reasons") or []) or "the characters do not match their sheets"
            batch.append(call("create_image", scene=i, prompt=s["image_prompt"], aspect=aspect, fix=fix))
            batch.append(call("check_continuity", scene=i))
    if not (approve_first and batch):
        batch += [call("narrate", scene=i, text=s["narration"])
                  for i, s in enumerate(scenes, start=1) if i not in done["narrate"] | failed["narrate"]]
    if batch:
        return batch
    batch = [call("animate_image", scene=i, aspect=aspect) for i in pending
             if i in done["create_image"] and i in done["narrate"]
             and i not in done["animate_image"] | failed["animate_image"]]
    if batch:
        return batch
    if all(i in done["animate_image"] for i in pending):
        if wants_music and not music:
            return [call("make_music")]
        if not assembled:
            return [call("assemble_video", aspect=aspect)]
        return [{"text": "The video is assembled."}]
    broken = sorted(set().union(*failed.values()))
    return [{"text": f"I could not finish: scene(s) {broken} failed and I will not retry them on my own."}]
