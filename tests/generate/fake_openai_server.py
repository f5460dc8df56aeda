"""A real OpenAI-compatible HTTP server on 127.0.0.1 for the engine tests, with scriptable misbehaviour."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the server answers to one request."""

    status: int = 200
    body: Any = None  # dict -> JSON; str/bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    hang: bool = False  # never answer (until the server shuts down)


@dataclass
class Seen:
    """One request the server received."""

    path: str
    body: Any
    headers: dict[str, str]


def default_reply(path: str, body: dict[str, Any], n: int) -> Reply:
    """A well-formed answer echoing the prompt."""
    if path.endswith("/chat/completions"):
        last = body["messages"][-1]["content"]
        return Reply(body={
            "id": f"chat-{n}", "object": "chat.completion", "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"echo: {last}"},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(last.split()), "completion_tokens": 2 + len(last.split()),
                      "total_tokens": 0}})
    return Reply(body={
        "id": f"cmpl-{n}", "object": "text_completion", "model": body.get("model"),
        "choices": [{"index": 0, "text": f"completion of [{body['prompt']}]", "finish_reason": "length"}],
        "usage": {"prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33}})


class FakeServer:
    """State shared by the handler threads: the script, what was seen, and in-flight counts."""

    def __init__(self) -> None:
        self.script: Callable[[str, dict[str, Any], int], Reply] = default_reply
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.stopping = threading.Event()
        self.url = ""

    def calls(self) -> int:
        with self.lock:
            return len(self.seen)


def _handler(state: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                body = json.loads(raw)
            except json.JSONDecodeError:
                body = raw.decode(errors="replace")
            with state.lock:
                n = len(state.seen)
                state.seen.append(Seen(self.path, body, {k.lower(): v for k, v in self.headers.items()}))
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                reply = state.script(self.path, body, n)
                if reply.hang:
                    state.stopping.wait(30)
                    return
                if reply.delay_s:
                    time.sleep(reply.delay_s)
            finally:
                with state.lock:
                    state.in_flight -= 1
            data = reply.body
            if isinstance(data, (dict, list)):
                payload = json.dumps(data).encode()
            elif isinstance(data, str):
                payload = data.encode()
            else:
                payload = data or b""
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)

    return Handler


@contextmanager
def serve() -> Iterator[FakeServer]:
    """Run a FakeServer on 127.0.0.1 (a free port) for the duration of the block."""
    state = FakeServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
