"""A real multi-node Ray cluster on this machine (``ray.cluster_utils.Cluster``), one per test module.

Each node is a real raylet with its own object store; nodes are tiny (1 CPU, 100 MB of object store) so that
several fit on a 2-core machine. The driver (this test process) connects to it; the module's tests share it, and
the fixture shuts down the connection and every node, so nothing of Ray outlives the module.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.strict import require

NODE = {"num_cpus": 1, "object_store_memory": 100 << 20}


def ray_or_skip() -> Any:
    try:
        import ray
    except ImportError:
        require(False, "ray is not installed (pip install 'ioi-eval[ray]')")
    return ray


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A head and two worker nodes, one CPU each; the test process is connected to it as the driver."""
    # The nodes' blob folders go into this module's temporary folder (the nodes inherit the environment).
    with local_cluster(tmp_path_factory, [{}] * 3) as c:
        yield c


@contextmanager
def local_cluster(tmp_path_factory: pytest.TempPathFactory, nodes: list[dict[str, Any]],
                  **env: str) -> Iterator[Any]:
    """A ``Cluster`` of ``len(nodes)`` nodes (each :data:`NODE` updated by its dict; the first is the head) with
    the driver connected, the status line off, the nodes' blob folder in a fresh temporary folder and ``env`` set
    while it lives; every node, the connection and the environment are undone afterwards."""
    ray = ray_or_skip()
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    env = {"IOI_EVAL_RAY_STATUS_S": "0", "IOI_EVAL_RAY_BLOBS": str(tmp_path_factory.mktemp("ray-blobs")), **env}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    c = Cluster(initialize_head=True, head_node_args={**NODE, **nodes[0], "include_dashboard": False})
    try:
        for extra in nodes[1:]:
            c.add_node(**{**NODE, **extra})
        c.wait_for_nodes()
        ray.init(address=c.address, log_to_driver=False, logging_level="ERROR")
        yield c
    finally:
        ray.shutdown()
        c.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def nodes_with_own_caches(tmp_path_factory: pytest.TempPathFactory, count: int = 3,
                          **node: Any) -> Iterator[tuple[Any, list[Path]]]:
    """:func:`local_cluster` of ``count`` nodes (``node`` updating :data:`NODE`), each with its own
    ``IOI_EVAL_CACHE`` folder, one slot per actor: (the cluster, the nodes' cache folders)."""
    folders = [tmp_path_factory.mktemp(f"node{i}-cache") for i in range(count)]
    with local_cluster(tmp_path_factory, [{**node, "env_vars": {"IOI_EVAL_CACHE": str(f)}} for f in folders],
                       IOI_EVAL_RAY_SLOTS="1") as c:
        yield c, folders


def _ours(pid_dir: Path) -> bool:
    """Whether the process belongs to this module's cluster: its environment holds the blob folder the fixture
    made for it (other test runs on the machine have Ray actors of their own; a worker that outlived its raylet
    still carries it)."""
    mine = os.environ.get("IOI_EVAL_RAY_BLOBS", "").encode()
    try:
        env = (pid_dir / "environ").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(mine) and b"IOI_EVAL_RAY_BLOBS=" + mine in env


def actor_processes() -> list[str]:
    """Judge actor processes of this module's cluster alive on this machine (``ray::BoxActor`` or
    ``ray::JudgeActor`` in their command line)."""
    found = []
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            cmd = (pid_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = next((ln for ln in (pid_dir / "status").read_text().splitlines() if ln.startswith("State:")), "")
        except OSError:
            continue
        if ("ray::BoxActor" in cmd or "ray::JudgeActor" in cmd) and "zombie" not in state and _ours(pid_dir):
            found.append(f"{pid_dir.name} {cmd.strip()[:80]}")
    return found


def wait_no_actors(timeout: float = 20.0) -> list[str]:
    """Poll until no judge actor process is left (Ray ends a killed actor's worker asynchronously)."""
    from ioi_eval.adversarial.procs import wait_until_gone

    return wait_until_gone(actor_processes, timeout)


class Background:
    """``judge.judge_many(items)`` in a thread (the test injects a fault meanwhile); ``reports`` once joined."""

    def __init__(self, judge: Any, items: list[tuple[Any, Any]]) -> None:
        self.reports: list[Any] = []
        self.pool = judge.submission_pool
        self.thread = threading.Thread(target=lambda: self.reports.extend(judge.judge_many(items)))
        self.thread.start()

    def wait_busy(self, results: int = 2, in_flight: int = 3, timeout: float = 120.0) -> None:
        """Wait until ``results`` reports came back and ``in_flight`` submissions are on the actors (or the
        timeout passes); fails when nothing is in flight, since a fault then has nothing to lose."""
        stats = self.pool.stats
        deadline = time.monotonic() + timeout
        while not (stats.results >= results and stats.in_flight >= in_flight) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stats.in_flight > 0, "nothing was in flight to lose"

    def settled(self, timeout: float = 120.0) -> tuple[int, int]:
        """``pool.alive()`` once no replacement actor is starting any more (or the timeout passed): a replacement
        may still be waiting for room or starting its box (a container) when the last report came back."""
        deadline = time.monotonic() + timeout
        while (alive := self.pool.alive())[0] != alive[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        return alive

    def join(self, timeout: float = 300.0) -> list[Any]:
        """The reports, once ``judge_many`` returned (fails when it did not within ``timeout``)."""
        self.thread.join(timeout=timeout)
        assert not self.thread.is_alive(), f"judge_many did not return within {timeout:g} s"
        return self.reports
