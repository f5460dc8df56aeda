"""The reward server in-process (uvicorn on 127.0.0.1 in a thread) over a box that can be broken: a fault is a 503
to retry on OpenRLHF's endpoint and a null with its cause on the plain one, never a number."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import PROBLEMS
from tests.fixtures.breaking_backend import BreakingBackend
from tests.system.rewards.test_server import OK, fence, free_port

pytest.importorskip("uvicorn")

from ioi_eval.rewards import CodeReward
from ioi_eval.rewards.server import serve


@pytest.fixture
def broken_server() -> Iterator[tuple[str, BreakingBackend]]:
    backend = BreakingBackend(broken=True)
    reward = CodeReward(str(PROBLEMS), backend=backend, min_fault_samples=100)
    port = free_port()
    ready = threading.Event()
    holder: list = []

    def on_ready(server: object) -> None:
        holder.append(server)
        ready.set()

    thread = threading.Thread(target=serve, args=(reward,), kwargs={"port": port, "on_ready": on_ready}, daemon=True)
    thread.start()
    assert ready.wait(30)
    yield f"http://127.0.0.1:{port}", backend
    holder[0].should_exit = True
    thread.join(30)
    assert not thread.is_alive()


def test_faults_are_retryable_503s_and_nulls(broken_server: tuple[str, BreakingBackend]) -> None:
    url, backend = broken_server
    body = {"query": ["p" + fence(OK), "p no code"], "prompts": ["p", "p"], "labels": ["pairsum", "pairsum"]}
    r = httpx.post(f"{url}/get_reward", json=body, timeout=60)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert r.json()["faulted"] == [0] and "box lost" in r.json()["error"] and r.json()["rewards"] == [None, 0.0]
    plain = httpx.post(f"{url}/rewards", json={"samples": [{"completion": fence(OK), "label": "pairsum"}]}, timeout=60)
    assert plain.status_code == 200
    [res] = plain.json()["results"]
    assert res["reward"] is None and res["status"] == "fault" and "box lost" in res["message"]
    backend.broken = False  # the box is back: the retry gets a real reward
    r = httpx.post(f"{url}/get_reward", json=body, timeout=60)
    assert r.status_code == 200 and r.json()["rewards"] == [1.0, 0.0]
