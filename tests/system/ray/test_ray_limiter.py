"""The cluster-wide limiter (:mod:`ioi_eval.backends.ray.limiter`) on a real 3-node Ray cluster: actors on every
node hammer one named limiter actor, and the concurrency cap and the rate hold across the nodes; a SIGKILLed
actor's leases come back when they expire; a second driver (another process) and a second pool find the same
limiter by name and share its leases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.backends.limiter import LimitTimeout
from ioi_eval.backends.ray.limiter import RayLimiter

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[3]


class Hammer:
    """An actor that takes leases and turns from the limiter called ``name`` in threads, recording the wall-clock
    times (the nodes share this machine's clock) at which it held each lease and got each turn."""

    def __init__(self, name: str, cap: int, rate: float) -> None:
        import ray

        self.limiter = RayLimiter(name, cap, rate)
        self.node = ray.get_runtime_context().get_node_id()
        self.kept: list[str] = []

    def where(self) -> dict[str, Any]:
        return {"node": self.node, "pid": os.getpid()}

    def hold(self, threads: int, rounds: int, hold_s: float) -> list[tuple[float, float]]:
        """Each thread: ``rounds`` times take a lease, hold it ``hold_s``, give it back. The intervals lie inside
        the time the lease was held (taken after the grant, ended before the release)."""
        spans: list[tuple[float, float]] = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(rounds):
                lease = self.limiter.acquire(f"hammer-{os.getpid()}", 60, 60)
                t0 = time.time()
                time.sleep(hold_s)
                t1 = time.time()
                self.limiter.release(lease)
                with lock:
                    spans.append((t0, t1))

        _all_at_once(work, threads)
        return spans

    def pace(self, threads: int, rounds: int) -> list[float]:
        """Each thread takes ``rounds`` turns; the time each turn came."""
        times: list[float] = []
        lock = threading.Lock()

        def work() -> None:
            for _ in range(rounds):
                self.limiter.pace()
                with lock:
                    times.append(time.time())

        _all_at_once(work, threads)
        return times

    def grab(self, n: int, ttl_s: float) -> list[str]:
        """Take ``n`` leases and keep them (never renewed, never released)."""
        self.kept += [self.limiter.acquire(f"grabber-{os.getpid()}", ttl_s, 10) for _ in range(n)]
        return list(self.kept)


def _all_at_once(work: Any, threads: int) -> None:
    """``work`` in ``threads`` threads at once, until each is done."""
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()


def _hammers(ray: Any, name: str, cap: int, rate: float) -> list[Any]:
    """One hammer pinned to each live node (no CPU asked: they only wait on the limiter)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    cls = ray.remote(Hammer)
    nodes = [n["NodeID"] for n in ray.nodes() if n.get("Alive")]
    assert len(nodes) == 3
    hammers = [cls.options(num_cpus=0, max_concurrency=8,
                           scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote(name, cap, rate)
               for n in nodes]
    assert len({w["node"] for w in ray.get([h.where.remote() for h in hammers])}) == 3
    return hammers


def _max_overlap(spans: list[tuple[float, float]]) -> int:
    events = sorted([(t0, 1) for t0, _ in spans] + [(t1, -1) for _, t1 in spans], key=lambda e: (e[0], e[1]))
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def test_the_concurrency_cap_holds_across_nodes(cluster) -> None:
    import ray

    cap = 4
    hammers = _hammers(ray, "test-cap", cap, 1000)
    # 3 nodes x 3 threads = 9 contenders for 4 leases, 6 rounds each.
    spans = [s for got in ray.get([h.hold.remote(3, 6, 0.05) for h in hammers]) for s in got]
    assert len(spans) == 3 * 3 * 6
    assert _max_overlap(spans) == cap  # reached, never passed
    state = RayLimiter("test-cap", cap, 1000).state()
    assert state["held"] == 0 and state["granted"] == 54 and state["expired"] == 0


def test_the_rate_holds_across_nodes(cluster) -> None:
    import ray

    rate, burst = 10.0, 10.0  # burst: the default, one second's worth
    hammers = _hammers(ray, "test-rate", 1, rate)
    t0 = time.time()
    times = sorted(t for got in ray.get([h.pace.remote(2, 8) for h in hammers]) for t in got)
    n = len(times)
    assert n == 48
    # The last turn cannot come before (n - burst) / rate seconds: 3.8 s.
    assert times[-1] - t0 >= (n - burst) / rate - 0.05
    # In any window, at most burst + rate x its length (2 turns of slack for a thread woken late).
    for i in range(n):
        for j in range(i + 1, n):
            assert j - i + 1 <= burst + rate * (times[j] - times[i]) + 2, (i, j, times[j] - times[i])
    assert RayLimiter("test-rate", 1, rate).state()["reserved"] == n


def test_a_killed_actors_leases_come_back_when_they_expire(cluster) -> None:
    import ray

    cap, ttl = 3, 3.0
    grabber, other, _ = _hammers(ray, "test-kill", cap, 1000)
    assert len(ray.get(grabber.grab.remote(cap, ttl))) == cap
    limiter = RayLimiter("test-kill", cap, 1000)
    state = limiter.state()
    assert state["held"] == cap and list(state["owners"]) == [f"grabber-{ray.get(grabber.where.remote())['pid']}"]
    with pytest.raises(LimitTimeout):  # the cap is held by the grabber
        limiter.acquire("driver", 60, 0.5)
    os.kill(ray.get(grabber.where.remote())["pid"], signal.SIGKILL)  # dies without releasing anything
    t0 = time.monotonic()
    spans = ray.get(other.hold.remote(cap, 1, 0.0), timeout=60)  # waits for the expiry, then gets every lease
    waited = time.monotonic() - t0
    assert len(spans) == cap and waited < ttl + 10
    state = limiter.state()
    assert state["held"] == 0 and state["expired"] == cap


DRIVER = """
import json, sys
import ray
ray.init(address=sys.argv[1], logging_level="ERROR", log_to_driver=False)
from ioi_eval.backends.ray.limiter import RayLimiter
lim = RayLimiter(sys.argv[2], 50, 1000)  # other limits: the existing limiter keeps its own
leases = [lim.acquire("second-driver", 60, 30) for _ in range(int(sys.argv[3]))]
print(json.dumps({"actor": lim.actor._actor_id.hex(), **lim.state()}), flush=True)
sys.stdin.readline()
for lease in leases:
    lim.release(lease)
print("released", flush=True)
"""


def test_two_drivers_and_two_pools_share_one_limiter_by_name(cluster) -> None:
    name, cap = "test-shared", 2
    first, second = RayLimiter(name, cap, 1000), RayLimiter(name, cap, 1000)  # two pools of this driver
    assert first.actor._actor_id == second.actor._actor_id
    mine = first.acquire("first-pool", 60, 5)
    env = {**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'sandbox'}"}
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, cluster.address, name, "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        seen = json.loads(proc.stdout.readline() or "{}")
        assert seen.get("actor") == first.actor._actor_id.hex(), seen or proc.stderr.read()
        assert seen["cap"] == cap and seen["held"] == 2  # its lease and the first pool's, in one actor
        assert seen["owners"] == {"first-pool": 1, "second-driver": 1}
        with pytest.raises(LimitTimeout):  # the second pool waits: both leases are taken, one by each driver
            second.acquire("second-pool", 60, 0.5)
        got: list[str] = []
        waiter = threading.Thread(target=lambda: got.append(second.acquire("second-pool", 60, 30)))
        waiter.start()
        proc.stdin.write("\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "released"
        waiter.join(30)
        assert got  # the other driver's release woke this one
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    second.release(got[0])
    first.release(mine)
    assert first.state()["held"] == 0


@pytest.fixture
def fake_e2b_actors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The driver's E2B settings for ``--ray-box e2b`` (an account of 2 sandboxes of 1 slot), with the E2B SDK in the
    actors replaced by the fake one (:func:`tests.fixtures.e2b_fake.shadow_package`: its sandboxes run the real
    in-box server on the actor's node). The account key (a fresh one: a fresh limiter)."""
    from ioi_eval.backends.ray import RayBackend
    from tests.fixtures.e2b_fake import shadow_package

    key = f"e2b_test_{os.getpid()}_{tmp_path.name}"
    monkeypatch.setenv("E2B_API_KEY", key)
    monkeypatch.setenv("IOI_EVAL_E2B_MAX_SANDBOXES", "2")  # the account's cap: 2 actors of 1 sandbox, not 3
    monkeypatch.setenv("IOI_EVAL_E2B_SLOTS", "1")
    monkeypatch.setenv("IOI_EVAL_E2B_CREATE_RATE", "50")
    monkeypatch.setenv("IOI_EVAL_E2B_ISOLATION", "")
    real_env = RayBackend.actor_env
    path = f"{shadow_package(tmp_path / 'fake-sdk')}:{REPO}:{REPO / 'sandbox'}"

    def with_fake_sdk(self: RayBackend) -> dict[str, Any]:
        options = real_env(self)
        assert options["runtime_env"]["env_vars"]["E2B_API_KEY"] == key  # the driver's settings travel
        options["runtime_env"]["env_vars"]["PYTHONPATH"] = path
        return options

    monkeypatch.setattr(RayBackend, "actor_env", with_fake_sdk)
    return key


def _pairsum() -> tuple[Any, list[Any]]:
    from ioi_eval.judge.submission import Submission
    from ioi_eval.sources.loader import load_problem
    from tests.conftest import PROBLEMS

    sols = PROBLEMS / "pairsum" / "solutions"
    return load_problem(PROBLEMS / "pairsum"), [
        Submission.from_path(sols / p, True)
        for p in ("model_solution/pairsum.cpp", "correct/pairsum.py", "incorrect/pairsum_same_index.cpp")]


def test_ray_box_e2b_judges_in_actors_under_the_cluster_limiter(cluster, fake_e2b_actors: str) -> None:
    """``--ray-box e2b``: the driver makes the limiter (named after the account key) with its limits, the actors
    get the E2B settings, and every sandbox of every actor holds one of its leases."""
    from ioi_eval.backends.ray.limiter import limiter_name
    from ioi_eval.judge.judge import Judge
    from ioi_eval.judge.results import Verdict

    problem, subs = _pairsum()
    with Judge("ray", workers=3, box="e2b") as judge:
        reports = judge.judge_many([(problem, s) for s in subs])
        pool = judge.submission_pool
        assert pool is not None and "2 actor(s) x 1 slots" in pool.isolation_note
        limiter = RayLimiter(limiter_name("e2b", fake_e2b_actors), 0, 0)
        assert limiter.state()["held"] == 2  # one sandbox per actor, each holding a lease while open
    state = limiter.state()
    assert state["cap"] == 2 and state["rate"] == 50 and state["granted"] == 2 and state["held"] == 0
    assert state["reserved"] == 2  # one creation turn per sandbox
    assert [r.score for r in reports[:2]] == [problem.max_score] * 2
    assert reports[2].score < problem.max_score and any(t.verdict == Verdict.WA for t in reports[2].tests)


def test_ray_box_e2b_on_the_box_path(cluster, fake_e2b_actors: str, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    """The box path (the driver judges, each actor relays to one sandbox) leases from the same limiter; a later
    driver with other limits finds it and is told it keeps its own."""
    import logging

    from ioi_eval.backends.ray import RayBackend
    from ioi_eval.backends.ray.limiter import limiter_name
    from ioi_eval.judge.judge import Judge

    problem, subs = _pairsum()
    with Judge("ray", workers=2, box="e2b", submissions=False) as judge:
        reports = [judge.judge(problem, s) for s in subs]
        assert "2 actor(s) x 1 slots on" in judge.box.isolation_note and "e2b boxes" in judge.box.isolation_note
        limiter = RayLimiter(limiter_name("e2b", fake_e2b_actors), 0, 0)
        assert limiter.state()["held"] == 2
    assert limiter.state()["held"] == 0 and limiter.state()["granted"] == 2
    assert [r.score for r in reports] == [problem.max_score, problem.max_score, reports[2].score]
    assert reports[2].score < problem.max_score
    monkeypatch.setenv("IOI_EVAL_E2B_MAX_SANDBOXES", "7")
    with caplog.at_level(logging.WARNING, "ioi_eval.ray"):
        found = RayBackend(box="e2b").limiter()
    assert found.state()["cap"] == 2 and "keeps 2 sandboxes" in caplog.text and "not this driver's 7" in caplog.text
