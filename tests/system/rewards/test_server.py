"""``ioi-eval serve-rewards`` over real HTTP on 127.0.0.1: OpenRLHF's protocol, the plain endpoint, malformed
bodies, concurrent clients, back-pressure and a shutdown while requests are being judged."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import PROBLEMS, REPO

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")

OK = (PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp").read_text()
SAME_INDEX = (PROBLEMS / "pairsum" / "solutions" / "incorrect" / "pairsum_same_index.cpp").read_text()
# Busy for about 1.2 s of CPU (under the inline problems' 2 s limit), then echoes its input: a slow but right answer.
SLOW = """#include <cstdio>
#include <ctime>
int main() { volatile unsigned long x = 0; while (clock() < 1.2 * CLOCKS_PER_SEC) x++;
  long long a; if (scanf("%lld", &a) == 1) printf("%lld\\n", a); }"""
SLOW_INFO = json.dumps({"language": "cpp", "test_cases": [{"input": "7\n", "output": "7\n"}]})


def fence(code: str) -> str:
    return f"Here it is.\n```cpp\n{code}\n```\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, tmp: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'sandbox'}"}
        self.log = tmp / f"server-{self.port}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "ioi_eval.cli", "serve-rewards", "--problems",
                                      str(PROBLEMS), "--port", str(self.port), *args],
                                     stdout=subprocess.DEVNULL, stderr=self.log.open("w"), env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise AssertionError(f"server did not start: {self.log.read_text()}")

    def post(self, path: str, body: object, **kw: object) -> httpx.Response:
        data = body if isinstance(body, (bytes, str)) else json.dumps(body)
        return httpx.post(f"{self.url}{path}", content=data, headers={"content-type": "application/json"},
                          timeout=120, **kw)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    s = Server(tmp_path)
    yield s
    assert s.stop() == 0


def test_openrlhf_get_reward(server: Server) -> None:
    prompts = ["Solve pairsum.\n", "Solve pairsum, subtask 1.\n", "Solve pairsum.\n", "Solve pairsum.\n"]
    completions = [fence(OK), fence(SAME_INDEX), fence(SAME_INDEX), "I give up."]
    labels = ["pairsum", "pairsum/01-small", "pairsum", "pairsum"]
    r = server.post("/get_reward", {"query": [p + c for p, c in zip(prompts, completions, strict=True)],
                                    "prompts": prompts, "labels": labels})
    assert r.status_code == 200, r.text
    body = r.json()
    # binary mode: the same-index solution passes subtask 1 but not the whole problem; no code is a real 0
    assert body["rewards"] == [1.0, 1.0, 0.0, 0.0]
    assert body["scores"] == body["rewards"]
    assert body["extra_logs"]["no_code"] == [0.0, 0.0, 0.0, 1.0]
    health = httpx.get(f"{server.url}/health").json()
    assert health["status"] == "ok" and health["mode"] == "binary" and health["problems"] >= 7


def test_plain_endpoint_per_sample_verdicts(server: Server) -> None:
    info = {"language": "cpp", "test_cases": [{"input": "2 3\n", "output": "5\n"}, {"input": "1 1\n", "output": "2\n"}]}
    prefix_only = "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",(a+b)/10);}"
    r = server.post("/rewards", {"samples": [
        {"completion": fence(SAME_INDEX), "problem_id": "pairsum"},
        {"completion": [{"role": "assistant", "content": fence(OK)}], "id": "pairsum", "subtask": "03-full"},
        {"completion": fence("#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}"),
         "verification_info": info},
        {"completion": fence(prefix_only), "label": json.dumps(info)},
        {"completion": "no code", "label": "pairsum"}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rewards"] == [0.0, 1.0, 1.0, 0.0, 0.0]
    wa, ok, inline_ok, inline_wa, none = body["results"]
    assert (wa["verdict"], wa["failed_test"], wa["status"]) == ("WA", "3-02", "judged")
    assert ok["verdict"] == "AC" and ok["target"] == "pairsum/03-full"
    assert inline_ok["passed"] == 2 and inline_wa["verdict"] == "WA"
    assert none["status"] == "no_code" and none["verdict"] == "NO_CODE"


@pytest.mark.parametrize(("path", "body", "status", "words"), [
    ("/get_reward", b"{not json", 400, "not JSON"),
    ("/get_reward", {"query": ["x"], "prompts": ["x"]}, 422, "labels"),
    ("/get_reward", {"query": ["a", "b"], "prompts": ["a"], "labels": ["pairsum", "pairsum"]}, 422, "one entry"),
    ("/get_reward", {"query": ["x"], "labels": ["nosuchproblem"]}, 422, "unknown problem"),
    ("/get_reward", {"query": ["x"], "labels": ["pairsum/99-nope"]}, 422, "no subtask"),
    ("/rewards", {"samples": [{"completion": "x"}]}, 422, "names no problem"),
    ("/rewards", {"samples": [{"completion": "x", "label": "pairsum", "bogus": 1}]}, 422, "bogus"),
    ("/rewards", [1, 2], 422, "JSON object"),
])
def test_malformed_requests_are_4xx(server: Server, path: str, body: object, status: int, words: str) -> None:
    r = server.post(path, body)
    assert r.status_code == status, r.text
    assert words in r.json()["error"]
    assert server.post("/get_reward", {"query": [fence(OK)], "labels": ["pairsum"]}).json()["rewards"] == [1.0]


def test_concurrent_clients(server: Server) -> None:
    def one(i: int) -> list[float]:
        code = OK if i % 2 == 0 else SAME_INDEX
        r = server.post("/get_reward", {"query": [fence(code)] * 3, "labels": ["pairsum", "pairsum/01-small",
                                                                              "pairsum/03-full"]})
        assert r.status_code == 200, r.text
        return r.json()["rewards"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(16)))
    for i, rewards in enumerate(results):
        assert rewards == ([1.0, 1.0, 1.0] if i % 2 == 0 else [0.0, 1.0, 0.0])


def slow_request(server: Server, marker: int) -> httpx.Response:
    # distinct code per request, so no verdict is shared between them
    return server.post("/rewards", {"samples": [{"completion": fence(SLOW + f"\n// {marker}"), "label": SLOW_INFO}]})


def test_back_pressure_refuses_when_the_queue_is_full(tmp_path: Path) -> None:
    server = Server(tmp_path, "--max-concurrent", "1", "--max-queue", "1")
    try:
        with ThreadPoolExecutor(2) as pool:
            running = pool.submit(slow_request, server, 1)
            time.sleep(0.5)
            queued = pool.submit(slow_request, server, 2)
            time.sleep(0.5)
            refused = server.post("/get_reward", {"query": [fence(OK)], "labels": ["pairsum"]})
            assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
            assert running.result().status_code == 200 and queued.result().status_code == 200
            assert running.result().json()["results"][0]["verdict"] == "AC"
    finally:
        assert server.stop() == 0


def test_shutdown_finishes_running_work_and_refuses_the_queued(tmp_path: Path) -> None:
    server = Server(tmp_path, "--max-concurrent", "1", "--max-queue", "4")
    with ThreadPoolExecutor(2) as pool:
        running = pool.submit(slow_request, server, 3)
        time.sleep(0.5)
        queued = pool.submit(slow_request, server, 4)
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGTERM)
        first, second = running.result(), queued.result()
    assert first.status_code == 200, first.text  # being judged: finished and answered in full
    assert first.json()["results"][0]["verdict"] == "AC"
    assert second.status_code == 503 and "shutting down" in second.json()["error"]  # refused, not dropped
    assert server.proc.wait(timeout=60) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/health", timeout=2)


def test_cli_refuses_a_busy_port_and_bad_options() -> None:
    from typer.testing import CliRunner

    from ioi_eval.cli import app

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(app, ["serve-rewards", "--problems", str(PROBLEMS), "--port", str(port)])
        assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.output
    result = CliRunner().invoke(app, ["serve-rewards", "--problems", str(PROBLEMS), "--port", str(free_port()),
                                      "--mode", "exactish"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "'exactish' is not one of 'binary', 'partial', 'ioi'" in result.output
    result = CliRunner().invoke(app, ["serve-rewards", "--problems", "/no/such", "--port", str(free_port())])
    assert result.exit_code == 2 and "/no/such" in result.output
