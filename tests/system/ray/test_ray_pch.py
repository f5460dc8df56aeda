"""The precompiled header on a real 3-node Ray cluster whose nodes each have their own cache (as separate machines
do): each node builds it once, however many judge actors on it compile at the same time, and nothing ships it.

Each node gets its own ``$IOI_EVAL_CACHE`` through its raylet's environment (the actors on it inherit it); two
judge actors run on every node, and the first compiles of all six start together, so without the build lock two
actors of a node would build the header side by side.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.judge.judge import Judge
from ioi_eval.judge.languages import PCH_BUILD_LOG
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

from .conftest import nodes_with_own_caches, wait_no_actors

pytestmark = pytest.mark.slow

NODES = 3
MODEL = PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp"


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[Path]]]:
    """A head and two workers, 2 CPUs each, each with its own cache folder."""
    with nodes_with_own_caches(tmp_path_factory, NODES, num_cpus=2) as got:
        yield got


def test_each_node_builds_the_precompiled_header_once(caches, tmp_path: Path) -> None:
    _, folders = caches
    problem = load_problem(PROBLEMS / "pairsum")
    subs = [Submission(name=f"s{i}.cpp", language="cpp", source=MODEL.read_bytes() + f"\n// {i}\n".encode())
            for i in range(12)]
    driver_cache = tmp_path / "driver-cache"
    with Judge("ray", workers=2 * NODES, cache_dir=driver_cache) as judge:
        reports = judge.judge_many([(problem, s) for s in subs])
        pool = judge.submission_pool
        assert pool is not None
        per_node = Counter(a.where["node_id"] for a in pool.actors if a.alive)
    assert wait_no_actors() == []
    assert sorted(per_node.values()) == [2] * NODES  # two actors on every node
    assert all(r.compile.ok and r.score == problem.max_score for r in reports), [r.compile for r in reports]
    assert all(t.verdict == Verdict.AC for r in reports for t in r.tests)
    for folder in folders:
        logs = list((folder / "pch").glob(f"*/{PCH_BUILD_LOG}"))
        # one compiler, one header per set of flags: the submissions', and the checker's (trusted) on the node
        # that compiled the checker for the whole cluster (the others took it from the compile registry)
        assert 1 <= len(logs) <= 2, (folder, logs)
        for log in logs:
            builds = log.read_text().splitlines()  # "<host> pid <pid> <seconds> s" per build
            assert len(builds) == 1, builds  # built once, by one actor, while its neighbour waited
            assert (log.parent / "bits" / "stdc++.h.gch").is_file()
        assert list((folder / "compile").glob("*/*/result.json"))  # this node compiled submissions
    assert not (driver_cache / "pch").exists()  # the driver neither built nor shipped one
