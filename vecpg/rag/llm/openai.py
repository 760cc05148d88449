"""A chat model behind any OpenAI-compatible endpoint: vLLM, llama.cpp's server, Ollama's ``/v1``,
LM Studio or a hosted API.

Standard library only (``urllib.request``), so no extra is needed to talk to a server. The base URL
is the API root that ``/chat/completions`` is appended to, as in OpenAI's own client
(``http://localhost:8000/v1``); a URL without a path gets ``/v1`` (``http://localhost:8000``), and
a pasted endpoint (``.../v1/chat/completions``) is cut back to its root.

The API key is sent in the ``Authorization`` header and nowhere else: not in ``repr``, logs or
error messages (a server quoting it back has it replaced by ``***``).
"""

from __future__ import annotations

import email.utils
import functools
import http.client
import json
import logging
import math
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ...errors import InvalidArgument, LLMAuthError, LLMError, LLMTimeout, MissingDependency
from .protocol import Message

URL_ENV = ("VECPG_LLM_URL", "OPENAI_BASE_URL")
MODEL_ENV = ("VECPG_LLM_MODEL", "OPENAI_MODEL")
API_KEY_ENV = ("VECPG_LLM_API_KEY", "OPENAI_API_KEY")
DEFAULT_BASE_URL = "https://api.openai.com/v1"

# Without the model's tokenizer, tokens are estimated as characters / 4, rounded up: about right for
# English with the BPE vocabularies of current chat models, too low for code and most other scripts.
CHARS_PER_TOKEN = 4
# The longest wait between two attempts, whatever a server's Retry-After asks for.
MAX_RETRY_WAIT = 30.0
# Bytes of a non-JSON body quoted in an error message.
_QUOTED = 300

log = logging.getLogger(__name__)


def _from_env(names: Iterable[str]) -> str | None:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def api_root(url: str) -> str:
    """The API root of an OpenAI-compatible server, the URL ``/chat/completions`` is appended to."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidArgument(f"an LLM endpoint is an http(s) URL such as http://localhost:8000/v1, got {url!r}")
    path = parts.path.rstrip("/")
    for suffix in ("/chat/completions", "/completions"):
        path = path.removesuffix(suffix)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path or "/v1", parts.query, ""))


def retry_delay(attempt: int, retry_after: str | None, backoff: float) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (0 is the first retry): the server's
    ``Retry-After`` (seconds or an HTTP date) when it gives one, else ``backoff * 2**attempt``;
    at most ``MAX_RETRY_WAIT``."""
    delay = backoff * 2**attempt
    if retry_after:
        value = retry_after.strip()
        try:
            delay = float(value)
        except ValueError:
            try:
                delay = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError):
                pass
    return min(max(delay, 0.0), MAX_RETRY_WAIT)


def _retriable(status: int) -> bool:
    return status == 429 or status >= 500


def _server_message(body: bytes) -> str:
    """What the server said went wrong: OpenAI's ``{"error": {"message": ...}}``, the plain
    ``{"error": "..."}`` of llama.cpp and Ollama, FastAPI's ``{"detail": ...}`` (vLLM), else the
    start of the body."""
    text = body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:_QUOTED]
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            value = data.get(key)
            if isinstance(value, dict) and value.get("message"):
                return str(value["message"])
            if value:
                return value if isinstance(value, str) else json.dumps(value)[:_QUOTED]
    return text[:_QUOTED]


def _estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@functools.cache
def _hf_tokenizer(name: str) -> Any:
    """A Hugging Face tokenizer from a local path or the local cache; loaded once per process."""
    from ...embedding.models import go_offline

    go_offline()
    try:
        from transformers import AutoTokenizer
    except ImportError as exc:
        raise MissingDependency(f"counting tokens with the tokenizer {name!r} needs transformers: "
                                "pip install 'vecpg[embed]'") from exc
    try:
        return AutoTokenizer.from_pretrained(name)
    except OSError as exc:
        raise InvalidArgument(f"tokenizer {name!r} is not available offline: give a local path or a name in the "
                              f"Hugging Face cache ({exc})") from exc


def token_counter(tokenizer: Any) -> Callable[[str], int]:
    """How ``count_tokens`` counts: with a Hugging Face tokenizer (an object, or its path or name,
    loaded on first use), an object with ``encode`` (tiktoken), a callable from text to a count,
    or, given None, the estimate of ``CHARS_PER_TOKEN`` characters per token."""
    if tokenizer is None:
        return _estimate
    if isinstance(tokenizer, (str, os.PathLike)):
        name = os.fspath(tokenizer)
        return lambda text: len(_hf_tokenizer(name).encode(text, add_special_tokens=False))
    if hasattr(tokenizer, "add_special_tokens") and hasattr(tokenizer, "encode"):
        return lambda text: len(tokenizer.encode(text, add_special_tokens=False))
    if hasattr(tokenizer, "encode"):
        return lambda text: len(tokenizer.encode(text))
    if callable(tokenizer):
        return lambda text: int(tokenizer(text))
    raise InvalidArgument(f"tokenizer: a tokenizer, its path or name, or a callable from text to a count; "
                          f"got {type(tokenizer).__name__}")


def _sse_events(lines: Iterable[bytes]) -> Iterator[str]:
    """The data of each server-sent event (``data:`` lines up to a blank line; comments and other
    fields skipped)."""
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
    if data:
        yield "\n".join(data)


class OpenAIChat:
    """An ``LLM`` (and ``StreamingLLM``) over an OpenAI-compatible ``/chat/completions`` endpoint.

    ``base_url``, ``model`` and ``api_key`` default to ``VECPG_LLM_URL`` / ``OPENAI_BASE_URL``,
    ``VECPG_LLM_MODEL`` / ``OPENAI_MODEL`` and ``VECPG_LLM_API_KEY`` / ``OPENAI_API_KEY``; without
    a URL, OpenAI's API. The key is optional (local servers need none). Without a model, the
    server's only model (``GET /models``) is used, asked once.

    ``timeout`` bounds the wait for the connection and for each read of the answer (not the whole
    answer: a stream may run longer). Connection failures, 429 and 5xx are retried ``retries``
    times, ``backoff * 2**n`` seconds apart or as the server's ``Retry-After`` says (at most
    ``MAX_RETRY_WAIT``); other 4xx and a server too slow to answer are not retried: the latter
    would multiply the wait the timeout promised.
    """

    def __init__(self, base_url: str | None = None, model: str | None = None, api_key: str | None = None, *,
                 timeout: float = 60.0, retries: int = 2, temperature: float = 0.0, tokenizer: Any = None,
                 backoff: float = 0.5) -> None:
        if timeout <= 0:
            raise InvalidArgument(f"timeout must be positive, got {timeout}")
        if retries < 0:
            raise InvalidArgument(f"retries must be 0 or more, got {retries}")
        if backoff < 0:
            raise InvalidArgument(f"backoff must be 0 or more, got {backoff}")
        self.base_url = api_root(base_url or _from_env(URL_ENV) or DEFAULT_BASE_URL)
        self.model = model or _from_env(MODEL_ENV)
        self._api_key = api_key or _from_env(API_KEY_ENV)
        self.timeout = timeout
        self.retries = retries
        self.temperature = temperature
        self.backoff = backoff
        self._count = token_counter(tokenizer)
        self.name = self.model or "openai-compatible"

    def __repr__(self) -> str:
        key = "'***'" if self._api_key else "None"
        return (f"OpenAIChat(base_url={self.base_url!r}, model={self.model!r}, api_key={key}, "
                f"timeout={self.timeout}, retries={self.retries}, temperature={self.temperature})")

    # -- the protocol ---------------------------------------------------------------------------
    def complete(self, messages: Sequence[Message], *, max_tokens: int = 512) -> str:
        with self._open("POST", "/chat/completions", self._payload(messages, max_tokens, stream=False)) as response:
            data = self._json(self._read(response))
        return self._content(data)

    def stream(self, messages: Sequence[Message], *, max_tokens: int = 512) -> Iterator[str]:
        """The answer in pieces (``choices[0].delta.content`` of each server-sent event); a server
        that ignores ``stream`` and answers in one JSON body gives one piece."""
        payload = self._payload(messages, max_tokens, stream=True)
        with self._open("POST", "/chat/completions", payload) as response:
            if response.headers.get_content_type() == "application/json":
                yield self._content(self._json(self._read(response)))
                return
            finished = False
            try:
                for event in _sse_events(response):
                    if event.strip() == "[DONE]":
                        return
                    chunk = self._json(event.encode("utf-8"))
                    if isinstance(chunk, dict) and chunk.get("error"):
                        raise LLMError(f"{self._where} stopped the stream: {self._scrub(_server_message(event.encode()))}")
                    choices = chunk.get("choices") if isinstance(chunk, dict) else None
                    if not choices or not isinstance(choices[0], dict):
                        continue
                    finished = finished or bool(choices[0].get("finish_reason"))
                    piece = (choices[0].get("delta") or {}).get("content")
                    if piece:
                        yield piece
            except TimeoutError:
                raise LLMTimeout(f"{self._where} sent nothing for {self.timeout} s in the middle of a stream") from None
            except (OSError, http.client.HTTPException) as exc:
                raise LLMError(f"{self._where} broke off the stream: {exc}") from None
            if not finished:
                raise LLMError(f"{self._where} ended the stream without data: [DONE]; the answer may be cut short")

    def count_tokens(self, text: str) -> int:
        """The model's tokens in ``text`` when a tokenizer was given, else an estimate
        (``CHARS_PER_TOKEN`` characters per token, rounded up)."""
        return self._count(text)

    # -- one request ----------------------------------------------------------------------------
    @property
    def _where(self) -> str:
        parts = urllib.parse.urlsplit(self.base_url)
        port = f":{parts.port}" if parts.port else ""
        return f"the LLM endpoint {parts.scheme}://{parts.hostname}{port}{parts.path}"

    def _scrub(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _payload(self, messages: Sequence[Message], max_tokens: int, *, stream: bool) -> dict[str, Any]:
        if not messages:
            raise InvalidArgument("a chat needs at least one message")
        if max_tokens < 1:
            raise InvalidArgument(f"max_tokens must be positive, got {max_tokens}")
        return {"model": self._model(), "messages": [{"role": m.role, "content": m.content} for m in messages],
                "max_tokens": max_tokens, "temperature": self.temperature, "stream": stream}

    def _model(self) -> str:
        if self.model:
            return self.model
        with self._open("GET", "/models", None) as response:
            data = self._json(self._read(response))
        served = [str(m.get("id")) for m in data.get("data", []) if isinstance(m, dict)] if isinstance(data, dict) else []
        if len(served) != 1:
            listed = ", ".join(served[:20]) or "none"
            raise LLMError(f"no model given (model=, VECPG_LLM_MODEL or OPENAI_MODEL) and {self._where} serves "
                           f"{len(served)}: {listed}")
        self.model = self.name = served[0]
        return self.model

    def _headers(self, has_body: bool) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream", "User-Agent": "vecpg"}
        if has_body:
            headers["Content-Type"] = "application/json"
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _open(self, method: str, path: str, payload: dict[str, Any] | None) -> http.client.HTTPResponse:
        """The server's response to one request, retried as the class says; a vecpg error else."""
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        url = self.base_url + path if "?" not in self.base_url else self.base_url.replace("?", path + "?", 1)
        attempts = self.retries + 1
        for attempt in range(attempts):
            request = urllib.request.Request(url, data=data, method=method, headers=self._headers(data is not None))
            try:
                response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)
                return response
            except urllib.error.HTTPError as exc:
                error = self._status_error(exc, attempt + 1)
                exc.close()
                if not _retriable(exc.code) or attempt == attempts - 1:
                    raise error from None
                delay = retry_delay(attempt, exc.headers.get("Retry-After"), self.backoff)
                what = f"answered {exc.code}"
            except urllib.error.URLError as exc:
                reason = exc.reason
                if attempt == attempts - 1:
                    kind = LLMTimeout if isinstance(reason, TimeoutError) else LLMError
                    raise kind(f"cannot reach {self._where}: {reason} (tried {attempts} times)") from None
                delay = retry_delay(attempt, None, self.backoff)
                what = f"could not be reached ({reason})"
            except TimeoutError:
                raise LLMTimeout(f"{self._where} did not answer within {self.timeout} s") from None
            except (OSError, http.client.HTTPException) as exc:
                if attempt == attempts - 1:
                    raise LLMError(f"{self._where} dropped the connection: {exc!r} (tried {attempts} times)") from None
                delay = retry_delay(attempt, None, self.backoff)
                what = f"dropped the connection ({exc!r})"
            log.warning("%s %s; retry %d of %d in %.2f s", self._where, what, attempt + 1, self.retries, delay)
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _status_error(self, exc: urllib.error.HTTPError, attempts: int) -> LLMError:
        try:
            body = exc.read()
        except (OSError, http.client.HTTPException):
            body = b""
        said = self._scrub(_server_message(body)) or exc.reason
        message = f"{self._where} answered {exc.code}: {said}"
        if exc.code in (401, 403):
            error: LLMError = LLMAuthError(f"{message} (check the API key: api_key=, VECPG_LLM_API_KEY or OPENAI_API_KEY)")
        elif exc.code == 404:
            error = LLMError(f"{message} (check the base URL, usually ending in /v1, and the model name)")
        elif _retriable(exc.code) and attempts > 1:
            error = LLMError(f"{message} (tried {attempts} times)")
        else:
            error = LLMError(message)
        error.status = exc.code
        return error

    def _read(self, response: http.client.HTTPResponse) -> bytes:
        try:
            return response.read()
        except TimeoutError:
            raise LLMTimeout(f"{self._where} did not finish its answer within {self.timeout} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise LLMError(f"{self._where} broke off its answer: {exc!r}") from None

    def _json(self, body: bytes) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            quoted = self._scrub(body[:_QUOTED].decode("utf-8", "replace"))
            raise LLMError(f"{self._where} answered with malformed JSON: {quoted!r}") from None

    def _content(self, data: Any) -> str:
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            if isinstance(data, dict) and data.get("error"):
                said = self._scrub(_server_message(json.dumps(data).encode()))
                raise LLMError(f"{self._where} answered with an error: {said}") from None
            raise LLMError(f"{self._where} answered without choices[0].message.content: "
                           f"{self._scrub(json.dumps(data)[:_QUOTED])}") from None
        return content or ""
