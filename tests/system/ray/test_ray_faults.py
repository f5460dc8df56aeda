"""Faults on a real 3-node Ray cluster: the driver (a real ``ioi-eval run --backend ray``) killed and resumed, and
a node removed while judging. Each time the scores equal a clean run's and nothing is left running."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ioi_eval.adversarial.procs import sandbox_processes, wait_until_gone
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import JudgeReport
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

from .conftest import Background, actor_processes, wait_no_actors

pytestmark = pytest.mark.slow

RAINFALL = PROBLEMS / "rainfall" / "solutions"
SOLUTIONS = ["model_solution/rainfall.cpp", "time_limit/rainfall_naive.cpp", "incorrect/rainfall_int.cpp",
             "correct/rainfall.py"]


def _cli(args: list[str], cwd: Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"}, **kw)


def _rows(run_dir: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        return db.execute(sql).fetchall()


def _replay(tmp_path: Path) -> Path:
    """8 completions for rainfall (4 subtasks x 2 samples): a full, a slow, an overflowing and a Python solution."""
    rows = []
    for i, sub in enumerate(["01-small", "02-medium", "03-small-values", "04-full"]):
        for sample in range(2):
            sol = SOLUTIONS[(i + sample) % len(SOLUTIONS)]
            tag = "python" if sol.endswith(".py") else "cpp"
            rows.append({"key": f"rainfall/{sub}/{sample}",
                         "text": f"Solution:\n```{tag}\n{(RAINFALL / sol).read_text()}\n```\n"})
    src = tmp_path / "replay.jsonl"
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return src


def test_driver_killed_and_resumed(cluster, tmp_path: Path) -> None:
    src = _replay(tmp_path)
    common = ["run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--samples", "2", "--json"]
    ray_args = [*common, "--backend", "ray", "--ray-address", cluster.address]
    killed = tmp_path / "killed"
    proc = _cli([*ray_args, "--run-dir", str(killed)], tmp_path)
    seen: set[str] = set()
    judged = 0
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
        seen.update(actor_processes())
        try:
            judged = _rows(killed, "SELECT COUNT(*) FROM submissions WHERE report IS NOT NULL")[0][0]
        except sqlite3.Error:  # not created yet
            continue
        if judged >= 2:
            break
    assert proc.poll() is None, proc.communicate()[1][-2000:]
    proc.send_signal(signal.SIGKILL)  # the driver only: its actors die with its job
    proc.wait(timeout=30)
    judged = _rows(killed, "SELECT COUNT(*) FROM submissions WHERE report IS NOT NULL")[0][0]
    assert 2 <= judged < 8
    assert wait_no_actors(60) == [], "the killed driver's actors outlived it"
    pids = [int(p.split()[0]) for p in seen]
    assert pids and all(wait_until_gone(lambda p=p: sandbox_processes(p, zombies=False)) == [] for p in pids)

    resumed = _cli([*ray_args, "--run-dir", str(killed)], tmp_path)
    out, errs = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, errs[-3000:]
    clean = _cli([*common, "--run-dir", str(tmp_path / "clean")], tmp_path)  # the local backend
    clean_out, clean_err = clean.communicate(timeout=300)
    assert clean.returncode == 0, clean_err[-3000:]
    a, b = json.loads(out), json.loads(clean_out)
    assert (a["total"], a["problems"][0]["subtasks"]) == (b["total"], b["problems"][0]["subtasks"])
    # Each submission judged exactly as often as in the clean run (once; never for one without code), same score.
    query = "SELECT key, judge_count, score, extraction FROM submissions ORDER BY key"
    assert _rows(killed, query) == _rows(tmp_path / "clean", query)
    assert _rows(killed, "SELECT MAX(judge_count), COUNT(*) FROM submissions") == [(1, 8)]
    assert wait_no_actors() == []


def test_a_node_removed_while_judging(cluster) -> None:
    problem = load_problem(PROBLEMS / "rainfall")
    takes_code = TASK_TYPES[problem.task_type].takes_code
    items = [(problem, Submission.from_path(s.path, takes_code)) for s in problem.solutions]
    with Judge("ray", workers=3) as judge:
        judge.judge(*items[0])  # the actors up, the package on their nodes
        pool = judge.submission_pool
        work = Background(judge, items)
        work.wait_busy()
        cluster.remove_node(cluster.list_all_nodes()[-1])  # a worker node, with the actor on it
        reports: list[JudgeReport] = work.join()
        assert pool.stats.broken >= 1
        assert any("its node left the cluster" in c for c in pool.stats.causes), pool.stats.causes
    assert not [r for r in reports if r.has_system_error], [(t.name, t.message) for r in reports
                                                            for t in r.system_errors()]
    assert {s.key: r.score for s, r in zip(problem.solutions, reports, strict=True)} == {
        s.key: s.expected_score for s in problem.solutions}
    assert wait_no_actors() == []
