"""OpenAIEngine against a real local OpenAI-compatible HTTP server (127.0.0.1 only)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ioi_eval.generate import get_engine
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.generate.openai_engine import OpenAIEngine, normalise_base_url
from tests.fixtures.fake_openai_server import FakeServer, Reply, default_reply, serve

MESSAGES = [{"role": "system", "content": "You are a judge's favourite."},
            {"role": "user", "content": "Solve nile subtask 3"}]


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with serve() as s:
        yield s


def make(server: FakeServer, **kw: Any) -> OpenAIEngine:
    """An engine with tiny timeouts and backoff, pointed at the fake server."""
    opts: dict[str, Any] = dict(base_url=server.url, api_key="sk-test", concurrency=4, max_retries=3, timeout_s=5,
                                backoff_base_s=0.01, backoff_max_s=0.05)
    opts.update(kw)
    return OpenAIEngine("test-model", **opts)


def request(i: int = 0, content: str | None = None, seed: int | None = None) -> GenerationRequest:
    messages = [MESSAGES[0], {"role": "user", "content": content or f"problem {i}"}]
    return GenerationRequest(key=f"p/s/{i}", problem="p", subtask="s", sample=i, messages=messages, seed=seed)


def run(engine: OpenAIEngine, requests: list[GenerationRequest],
        sampling: SamplingConfig | None = None) -> dict[str, Completion]:
    try:
        out = list(engine.generate(requests, sampling or SamplingConfig()))
    finally:
        engine.close()
    assert sorted(c.key for c in out) == sorted(r.key for r in requests)
    return {c.key: c for c in out}


def test_chat_success_and_payload(server: FakeServer) -> None:
    engine = make(server, base_url=server.url, extra_body={"top_k": 20})  # no /v1: added
    sampling = SamplingConfig(temperature=0.6, top_p=0.9, max_tokens=1234, seed=1000, stop=["</code>"])
    req = GenerationRequest(key="nile/03/2", problem="nile", subtask="03", sample=2, messages=MESSAGES)
    c = run(engine, [req], sampling)["nile/03/2"]
    assert not c.failed
    assert (c.text, c.reasoning, c.finish_reason) == ("echo: Solve nile subtask 3", None, "stop")
    assert (c.prompt_tokens, c.completion_tokens, c.seed) == (4, 6, 1002)  # base seed + sample index
    [seen] = server.seen
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test"
    assert seen.body == {"model": "test-model", "messages": MESSAGES, "temperature": 0.6, "top_p": 0.9,
                         "max_tokens": 1234, "seed": 1002, "stop": ["</code>"], "n": 1, "top_k": 20}


def test_max_tokens_none_and_no_seed_are_omitted(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    engine = make(server, base_url=server.url + "/v1/", api_key=None)
    run(engine, [request(0)], SamplingConfig(max_tokens=None, seed=None))
    body = server.seen[0].body
    assert "max_tokens" not in body and "seed" not in body and "stop" not in body
    assert server.seen[0].path == "/v1/chat/completions"
    assert server.seen[0].headers["authorization"] == "Bearer sk-from-env"


def test_request_seed_wins(server: FakeServer) -> None:
    c = run(make(server), [request(3, seed=77)], SamplingConfig(seed=5))["p/s/3"]
    assert c.seed == 77 and server.seen[0].body["seed"] == 77


def test_completions_mode(server: FakeServer) -> None:
    engine = make(server, mode="completions")
    c = run(engine, [request(0, content="write code")])["p/s/0"]
    assert server.seen[0].path == "/v1/completions"
    prompt = "You are a judge's favourite.\n\nwrite code"
    assert server.seen[0].body["prompt"] == prompt and "messages" not in server.seen[0].body
    assert c.text == f"completion of [{prompt}]"
    assert (c.finish_reason, c.prompt_tokens, c.completion_tokens) == ("length", 11, 22)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_field(server: FakeServer, field: str) -> None:
    def script(path: str, body: dict[str, Any], n: int) -> Reply:
        return Reply(body={"choices": [{"message": {"content": "```cpp\nx\n```", field: "deep thoughts"},
                                        "finish_reason": "stop"}],
                           "usage": {"prompt_tokens": 3, "completion_tokens": 9}})

    server.script = script
    c = run(make(server), [request(0)])["p/s/0"]
    assert (c.text, c.reasoning, c.completion_tokens) == ("```cpp\nx\n```", "deep thoughts", 9)


def test_think_tags_split_when_no_reasoning_parser(server: FakeServer) -> None:
    replies = {"p/s/0": "<think>plan</think>\n```cpp\nA\n```", "p/s/1": "<think>cut off mid-thought ```cpp"}

    def script(path: str, body: dict[str, Any], n: int) -> Reply:
        text = replies["p/s/0"] if body["messages"][-1]["content"] == "problem 0" else replies["p/s/1"]
        return Reply(body={"choices": [{"message": {"content": text}, "finish_reason": "length"}]})

    server.script = script
    out = run(make(server), [request(0), request(1)])
    assert (out["p/s/0"].reasoning, out["p/s/0"].text) == ("plan", "```cpp\nA\n```")
    assert (out["p/s/1"].reasoning, out["p/s/1"].text) == ("cut off mid-thought ```cpp", "")
    assert out["p/s/1"].prompt_tokens is None  # no usage in the answer


def test_concurrency_bound_and_yield_order(server: FakeServer) -> None:
    def script(path: str, body: dict[str, Any], n: int) -> Reply:
        slow = body["messages"][-1]["content"] == "problem 0"
        return Reply(body=default_reply(path, body, n).body, delay_s=0.8 if slow else 0.1)

    server.script = script
    engine = make(server, concurrency=3)
    start = time.monotonic()
    order = [c.key for c in engine.generate([request(i) for i in range(10)], SamplingConfig())]
    elapsed = time.monotonic() - start
    engine.close()
    assert sorted(order) == sorted(f"p/s/{i}" for i in range(10))
    assert server.max_in_flight == 3  # bounded, and the bound is used
    assert order[-1] == "p/s/0" or order.index("p/s/0") > 3  # yielded as finished, not in request order
    assert elapsed < 2.5  # 9 fast ones share two slots while the slow one holds the third


def test_429_with_retry_after_then_success(server: FakeServer) -> None:
    def script(path: str, body: dict[str, Any], n: int) -> Reply:
        if n == 0:
            return Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "1"})
        return default_reply(path, body, n)

    server.script = script
    start = time.monotonic()
    c = run(make(server, backoff_base_s=0.001, backoff_max_s=0.001), [request(0)])["p/s/0"]
    assert not c.failed and c.text == "echo: problem 0"
    assert server.calls() == 2
    assert time.monotonic() - start >= 0.95  # waited as told, not the 1 ms backoff


def test_5xx_then_success(server: FakeServer) -> None:
    statuses = [500, 502, 503]

    def script(path: str, body: dict[str, Any], n: int) -> Reply:
        if n < len(statuses):
            return Reply(status=statuses[n], body="upstream exploded")
        return default_reply(path, body, n)

    server.script = script
    c = run(make(server, max_retries=3), [request(0)])["p/s/0"]
    assert not c.failed and c.text == "echo: problem 0"
    assert server.calls() == 4


@pytest.mark.parametrize("status", [408, 409])
def test_retryable_4xx(server: FakeServer, status: int) -> None:
    server.script = lambda path, body, n: Reply(status=status, body="busy") if n == 0 else default_reply(path, body, n)
    assert not run(make(server), [request(0)])["p/s/0"].failed
    assert server.calls() == 2


def test_5xx_forever_is_an_error(server: FakeServer) -> None:
    server.script = lambda path, body, n: Reply(status=503, body="overloaded, come back later")
    c = run(make(server, max_retries=2), [request(0)])["p/s/0"]
    assert c.failed and c.text == ""
    assert "3 attempts" in c.error and "HTTP 503" in c.error and "overloaded" in c.error
    assert server.calls() == 3


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_permanent_4xx_fails_at_once(server: FakeServer, status: int) -> None:
    server.script = lambda path, body, n: Reply(
        status=status, body={"error": {"message": "This model's maximum context length is 4096 tokens"}})
    c = run(make(server, max_retries=5), [request(0)])["p/s/0"]
    assert c.failed and c.text == ""
    assert f"HTTP {status}" in c.error and "maximum context length" in c.error
    assert server.calls() == 1


def test_timeout_retries_then_error(server: FakeServer) -> None:
    server.script = lambda path, body, n: Reply(hang=True)
    start = time.monotonic()
    c = run(make(server, timeout_s=0.3, max_retries=2), [request(0)])["p/s/0"]
    assert c.failed and "timed out" in c.error and "3 attempts" in c.error
    assert server.calls() == 3
    assert time.monotonic() - start < 5


def test_malformed_json_is_an_error(server: FakeServer) -> None:
    server.script = lambda path, body, n: Reply(body="{'choices': [oops")
    c = run(make(server, max_retries=1), [request(0)])["p/s/0"]
    assert c.failed and "malformed JSON" in c.error and "oops" in c.error
    assert server.calls() == 2


def test_json_without_choices_is_an_error(server: FakeServer) -> None:
    server.script = lambda path, body, n: Reply(body={"object": "chat.completion", "choices": []})
    c = run(make(server, max_retries=0), [request(0)])["p/s/0"]
    assert c.failed and "no choices" in c.error


def test_connection_refused_is_an_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = OpenAIEngine("m", base_url=f"http://127.0.0.1:{port}", max_retries=2, timeout_s=2,
                          backoff_base_s=0.01, backoff_max_s=0.02)
    c = run(engine, [request(0)])["p/s/0"]
    assert c.failed and "connection error" in c.error and "3 attempts" in c.error


def test_mixed_outcomes_one_call(server: FakeServer) -> None:
    def script(path: str, body: dict[str, Any], n: int) -> Reply:
        content = body["messages"][-1]["content"]
        if content == "problem 1":
            return Reply(status=400, body="bad request")
        return default_reply(path, body, n)

    server.script = script
    out = run(make(server), [request(i) for i in range(4)])
    assert [out[f"p/s/{i}"].failed for i in range(4)] == [False, True, False, False]


def test_engine_reusable_and_close_stops_thread(server: FakeServer) -> None:
    engine = make(server)
    assert len(list(engine.generate([request(0)], SamplingConfig()))) == 1
    assert len(list(engine.generate([request(1), request(2)], SamplingConfig()))) == 2
    assert list(engine.generate([], SamplingConfig())) == []
    engine.close()
    assert not any(t.name == "ioi-eval-openai" and t.is_alive() for t in threading.enumerate())


def test_registry(server: FakeServer) -> None:
    engine = get_engine("openai", "test-model", base_url=server.url, concurrency=2)
    assert isinstance(engine, OpenAIEngine) and engine.name == "openai"
    assert run(engine, [request(0)])["p/s/0"].text == "echo: problem 0"


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="mode"):
        OpenAIEngine("m", base_url="http://127.0.0.1:1", mode="edits")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url"):
        OpenAIEngine("m", base_url=None)


@pytest.mark.parametrize(("given", "expected"), [
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("127.0.0.1:8000", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1"),
    ("http://127.0.0.1:8000/v1/chat/completions", "http://127.0.0.1:8000/v1"),
    ("https://example.invalid/v1beta/openai", "https://example.invalid/v1beta/openai"),
])
def test_normalise_base_url(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected


# ------------------------------------------------------------------------------------------ the SDK, several servers


def test_the_sdk_carries_headers_timeout_and_extra_body(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests go through the openai SDK: its headers, our extra headers and extra_body fields; the key only in
    the Authorization header (and, with none given, OPENAI_API_KEY's)."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    engine = OpenAIEngine("test-model", base_url=server.url, headers={"X-Team": "ioi"}, timeout_s=5,
                          extra_body={"top_k": 20, "chat_template_kwargs": {"enable_thinking": False}})
    assert run(engine, [request(0)])["p/s/0"].text == "echo: problem 0"
    [seen] = server.seen
    assert seen.headers["x-team"] == "ioi" and seen.headers["authorization"] == "Bearer sk-from-env"
    assert "openai" in seen.headers["user-agent"].lower()  # the SDK's own client
    assert seen.body["top_k"] == 20 and seen.body["chat_template_kwargs"] == {"enable_thinking": False}
    assert "sk-from-env" not in repr(vars(engine)).replace("_api_key': 'sk-from-env", "")


@pytest.fixture
def servers() -> Iterator[list[FakeServer]]:
    from contextlib import ExitStack

    with ExitStack() as stack:
        yield [stack.enter_context(serve()) for _ in range(3)]


def test_requests_go_to_the_least_loaded_server(servers: list[FakeServer]) -> None:
    """A slow server gets fewer requests than fast ones: each request goes where the fewest are in flight."""
    slow, fast1, fast2 = servers

    def sleepy(path: str, body: dict[str, Any], n: int) -> Reply:
        return Reply(body=default_reply(path, body, n).body, delay_s=0.4)

    slow.script = sleepy
    for s in (fast1, fast2):
        s.script = lambda path, body, n: Reply(body=default_reply(path, body, n).body, delay_s=0.02)
    engine = make(slow, base_url=[s.url for s in servers], concurrency=2)
    out = run(engine, [request(i) for i in range(24)])
    assert not any(c.failed for c in out.values())
    assert slow.calls() <= 4 < fast1.calls() and fast2.calls() > 4
    assert slow.calls() + fast1.calls() + fast2.calls() == 24
    assert max(s.max_in_flight for s in servers) <= 2  # concurrency is per server


def test_a_server_killed_mid_run_is_taken_out_and_tried_again_later(servers: list[FakeServer]) -> None:
    """One of three servers dies while requests are in flight: its requests are retried on the others, none fails;
    after revive_after_s it is tried again (here: restarted on the same port, it serves again)."""
    a, b, c = servers

    def slowish(path: str, body: dict[str, Any], n: int) -> Reply:
        return Reply(body=default_reply(path, body, n).body, delay_s=0.05)

    for s in servers:
        s.script = slowish
    engine = make(a, base_url=[s.url for s in servers], concurrency=2, max_retries=4, timeout_s=2,
                  revive_after_s=0.5)
    try:
        results = []
        gen = engine.generate([request(i) for i in range(40)], SamplingConfig())
        for i, comp in enumerate(gen):
            results.append(comp)
            if i == 5:  # kill server a mid-run: its listening socket closes, requests in flight are dropped
                a.kill()
        assert len(results) == 40 and not any(r.failed for r in results), [r.error for r in results if r.failed]
        stats = engine.server_stats()
        assert stats[f"{a.url}/v1"]["failures"] >= 1
        served_by_a = a.calls()
        assert b.calls() + c.calls() + served_by_a >= 40
        # revived: bring a back on its port; after revive_after_s it takes requests again
        port = int(a.url.rsplit(":", 1)[1])
        with serve(port) as again:
            time.sleep(0.6)
            more = list(engine.generate([request(100 + i) for i in range(12)], SamplingConfig()))
            assert not any(r.failed for r in more)
            assert again.calls() >= 1
    finally:
        engine.close()


def test_every_server_dead_fails_each_request_after_its_retries() -> None:
    urls = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            urls.append(f"http://127.0.0.1:{s.getsockname()[1]}")
    engine = OpenAIEngine("m", base_url=urls, max_retries=2, timeout_s=2, backoff_base_s=0.01, backoff_max_s=0.02,
                          revive_after_s=0.05)
    out = run(engine, [request(i) for i in range(3)])
    assert all(c.failed and "connection error" in c.error and "3 attempts" in c.error for c in out.values())


def test_preflight_checks_every_server(servers: list[FakeServer]) -> None:
    from ioi_eval.errors import EngineError

    for s in servers:
        s.models = ["test-model"]
    servers[2].models = ["other"]
    engine = make(servers[0], base_url=[s.url for s in servers])
    with pytest.raises(EngineError, match=f"{servers[2].url}/v1 does not serve the model 'test-model'"):
        engine.preflight()
    assert all(s.gets == ["/v1/models"] for s in servers)


def test_the_key_is_masked_in_errors(server: FakeServer) -> None:
    """A server that echoes the request's headers in its error: the stored error carries no key."""
    server.script = lambda path, body, n: Reply(status=401, body={"error": "bad key 'Bearer sk-very-secret-1'"})
    server.models = None
    c = run(make(server, api_key="sk-very-secret-1"), [request(0)])["p/s/0"]
    assert c.failed and "HTTP 401" in c.error and "sk-very-secret-1" not in c.error and "***" in c.error
