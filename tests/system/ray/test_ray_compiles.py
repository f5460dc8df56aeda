"""Compile once per cluster (issue 16), on a real 3-node Ray cluster whose nodes each have their own cache (as
separate machines do).

The same source judged on every node is compiled by one judge actor; the others take its program from the object
store through the pool's compile registry into their own node's cache, and the verdicts are the local backend's.
With the registry keeping nothing (``$IOI_EVAL_RAY_COMPILES_MB=0``), the same judging compiles it on every node:
what the first test counts is what sharing saves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import JudgeReport
from ioi_eval.judge.submission import Submission
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

from .conftest import nodes_with_own_caches, wait_no_actors

pytestmark = pytest.mark.slow

NODES = 3
MODEL = PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp"


@pytest.fixture(scope="module")
def caches(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[Path]]]:
    """A head and two workers, 1 CPU each (one judge actor of one slot per node), each with its own cache."""
    with nodes_with_own_caches(tmp_path_factory, NODES) as got:
        yield got


def keys(folder: Path) -> set[str]:
    """The compile cache entries of a node."""
    return {p.name for p in (folder / "compile").glob("*/*") if not p.name.startswith(".")}


def judge_copies(tag: str, copies: int, driver_cache: Path) -> tuple[list[JudgeReport], dict[str, Any], int]:
    """``copies`` submissions of one source (named apart) judged at once on the cluster: their reports, the
    compile registry's state, and how many nodes the actors were on."""
    problem = load_problem(PROBLEMS / "pairsum")
    source = MODEL.read_bytes() + f"\n// {tag}\n".encode()
    subs = [Submission(name=f"{tag}{i}.cpp", language="cpp", source=source) for i in range(copies)]
    with Judge("ray", workers=NODES, cache_dir=driver_cache) as judge:
        reports = judge.judge_many([(problem, s) for s in subs])
        pool = judge.submission_pool
        assert pool is not None
        state = pool.compile_stats()
        nodes = len({a.where["node_id"] for a in pool.actors if a.alive})
    assert state is not None
    return reports, state, nodes


def registries_left() -> list[str]:
    """Compile registries still named in the cluster (a closed pool ends its own; Ray frees the name soon after)."""
    from ray.util import list_named_actors

    deadline = time.monotonic() + 20
    while True:
        left = [a["name"] for a in list_named_actors(all_namespaces=True) if a["name"].startswith("ioi-eval-compiles")]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def test_a_source_judged_on_every_node_is_compiled_once_in_the_cluster(caches, tmp_path: Path) -> None:
    _, folders = caches
    reports, state, nodes = judge_copies("shared", 2 * NODES, tmp_path / "driver-cache")
    assert wait_no_actors() == [] and registries_left() == []
    assert nodes == NODES
    assert [r.compile.cached for r in reports].count(False) == 1, [r.compile for r in reports]  # compiled once
    # every node judged it: each holds the same entries (the checker's and the submission's) in its own cache
    held = [keys(f) for f in folders]
    assert len(held[0]) == 2 and all(h == held[0] for h in held), held
    assert state["registered"] == 2 and state["duplicates"] == 0 and state["entries"] == 2
    assert state["hits"] >= 2 * (NODES - 1)  # each other node took the checker and the program from the registry
    assert not (tmp_path / "driver-cache" / "compile").exists()  # the driver compiled nothing
    # the verdicts are the local backend's
    problem = load_problem(PROBLEMS / "pairsum")
    with Judge("local", cache_dir=tmp_path / "local-cache") as local:
        expected = local.judge(problem, Submission(name="x.cpp", language="cpp", source=MODEL.read_bytes()))
    assert expected.score == problem.max_score
    for report in reports:
        assert report.score == expected.score
        assert [(t.name, t.verdict) for t in report.tests] == [(t.name, t.verdict) for t in expected.tests]
        assert [(s.name, s.score) for s in report.subtasks] == [(s.name, s.score) for s in expected.subtasks]


def test_without_the_registrys_entries_each_node_compiles_it(caches, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: a registry that keeps nothing (each entry refused) shares nothing."""
    _, folders = caches
    monkeypatch.setenv("IOI_EVAL_RAY_COMPILES_MB", "0")
    reports, state, nodes = judge_copies("apart", NODES, tmp_path / "driver-cache")
    assert wait_no_actors() == [] and registries_left() == []
    assert nodes == NODES and all(r.score == r.max_score and not r.has_system_error for r in reports)
    assert [r.compile.cached for r in reports].count(False) == NODES  # once on each node
    assert state["entries"] == 0 and state["refused"] >= NODES  # (the checker's too, where no node had it yet)
    held = [keys(f) for f in folders]
    assert all(h == held[0] for h in held), held  # each node compiled it into its own cache
