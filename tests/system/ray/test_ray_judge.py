"""The Ray backend on a real 3-node cluster: the same verdicts as the local backend (whole submissions judged in
the actors, over bubblewrap or Docker boxes on the nodes), a judge actor killed while judging, and hostile programs
(the adversarial suite's process and file-system cases, on the submission path and on the box path)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.adversarial import AdversarialSuite, get_cases
from ioi_eval.adversarial.procs import sandbox_processes, wait_until_gone
from ioi_eval.adversarial.suite import CASES_ENV
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import JudgeReport, Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.judge.validate import validate_problem
from ioi_eval.sources.loader import discover, load_problem
from tests.conftest import PROBLEMS
from tests.fixtures.strict import require

from .conftest import Background, wait_no_actors

pytestmark = pytest.mark.slow

PROCESS_CASES = ["fork-bomb", "kill-parent", "kill-all", "setsid-daemon", "orphan-spinner", "ptrace-harness"]
FILE_CASES = ["read-etc-passwd", "read-expected-output", "write-outside", "persist-between-runs", "py-harness-files"]


def _actor_pids(judge: Judge) -> list[int]:
    pool = judge.submission_pool
    if pool is not None:  # the submission path: judge actors
        return [a.where["pid"] for a in pool.actors if a.alive]
    return [s.channel.where["pid"] for s in judge.box.pool.slots if s.channel is not None]


def _ran(report: JudgeReport) -> dict[str, Verdict]:
    return {t.name: t.verdict for t in report.tests if t.verdict != Verdict.SKIPPED}


@pytest.fixture(scope="module")
def local_checks() -> dict[tuple[str, str], Any]:
    """Every bundled solution judged on the local backend: (problem, solution key) -> its check."""
    problems = [load_problem(r) for r in discover(PROBLEMS)]
    with Judge("local", workers=2) as judge:
        return {(p.code, c.solution.key): c for p in problems for c in validate_problem(judge, p)}


def docker_or_skip() -> None:
    from ioi_eval.backends.docker_engine import DEFAULT_IMAGE, engine_available, image_exists

    require(engine_available(), "no Docker engine answers (scripts/setup-docker starts one)")
    require(image_exists(DEFAULT_IMAGE), f"the judge image {DEFAULT_IMAGE} is missing (ioi-eval sandbox build)")


def _containers_of(pids: list[int]) -> list[str]:
    """Judge containers (running or not, or being removed) whose owner is one of these processes of this machine."""
    from ioi_eval.backends.docker import LABEL
    from ioi_eval.backends.docker_engine import containers_labelled

    owners = {f"{socket.gethostname()}:{pid}" for pid in pids}
    return [name for name, owner in containers_labelled(LABEL) if owner in owners]


@pytest.mark.parametrize("box", ["local", "docker"])
def test_every_bundled_solution_judges_as_on_the_local_backend(cluster, local_checks, box: str) -> None:
    if box == "docker":
        docker_or_skip()
    problems = [load_problem(r) for r in discover(PROBLEMS)]
    with Judge("ray", workers=3, box=box) as judge:
        on_ray = {(p.code, c.solution.key): c for p in problems for c in validate_problem(judge, p)}
        pool = judge.submission_pool
        assert pool is not None and judge._box is None  # whole submissions in the actors, no box on the driver
        assert f"3 actor(s) x 1 slots on 3 node(s), {box} boxes" in pool.isolation_note
        assert {a.where["box"] for a in pool.actors} == {box}
        if box == "docker":  # each actor's judge container runs on its node
            assert len(_containers_of(_actor_pids(judge))) == 3
        shipped = pool.bytes_put
        pids = _actor_pids(judge)
    assert wait_no_actors() == []
    assert all(sandbox_processes(pid, zombies=False) == [] for pid in pids)
    if box == "docker":  # closed with their actors, not left to the next start's clean-up
        assert wait_until_gone(lambda: _containers_of(pids), 15) == []
    local = local_checks
    assert on_ray.keys() == local.keys() and len(local) >= 30
    bad = {key: c.problems for key, c in on_ray.items() if not c.ok}
    assert not bad, bad
    for key, c in on_ray.items():
        r, loc = c.report, local[key].report
        assert (r.score, [s.score for s in r.subtasks]) == (loc.score, [s.score for s in loc.subtasks]), key
        both = _ran(r).keys() & _ran(loc).keys()  # a test skipped on one side may have run on the other
        assert {t: _ran(r)[t] for t in both} == {t: _ran(loc)[t] for t in both}, key
    # Each package went through the object store once, and was unpacked in each node's folder once.
    assert shipped > 0
    folders = [d for d in Path(os.environ["IOI_EVAL_RAY_BLOBS"]).iterdir() if d.is_dir()]
    assert len(folders) == 3
    for d in folders:
        names = [f.name for f in d.iterdir()]
        assert names and len(names) == len(set(names)) and not any(n.startswith(".part-") for n in names)
        assert sum(n.startswith("pkg-") for n in names) == sum(n.endswith(".pkg.tar") for n in names) >= 1


def test_doctor_adversarial_on_ray_with_docker_boxes(cluster) -> None:
    """``ioi-eval doctor --adversarial --backend ray --ray-box docker``: the nodes' report and a few hostile cases,
    judged whole in judge actors over Docker boxes on the test cluster."""
    docker_or_skip()
    env = {**os.environ, CASES_ENV: "control-cpp,fork-bomb,write-outside", "COLUMNS": "200"}
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "doctor", "--adversarial", "--backend", "ray",
                          "--ray-address", cluster.address, "--ray-box", "docker"],
                         capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, (res.stdout + res.stderr)[-4000:]
    assert "3 cases on the ray backend, docker boxes" in res.stderr
    assert "3/3 held" in res.stdout, res.stdout[-3000:]
    assert res.stdout.count("ray node") >= 3  # one row per node, from an actor with a Docker box there
    assert wait_no_actors() == []


@pytest.mark.parametrize("box", ["local", "docker"])
def test_a_judge_actor_killed_while_judging(cluster, monkeypatch: pytest.MonkeyPatch, box: str) -> None:
    if box == "docker":
        docker_or_skip()
    problem = load_problem(PROBLEMS / "rainfall")
    takes_code = TASK_TYPES[problem.task_type].takes_code
    items = [(problem, Submission.from_path(s.path, takes_code)) for s in problem.solutions]
    lines: list[str] = []
    monkeypatch.setenv("IOI_EVAL_RAY_STATUS_S", "0.2")
    with Judge("ray", workers=3, status=lines.append, box=box) as judge:
        judge.judge(*items[0])  # the actors up, the package on their nodes
        pool = judge.submission_pool
        victim = _actor_pids(judge)[0]
        if box == "docker":
            assert len(_containers_of([victim])) == 1
        work = Background(judge, items)
        work.wait_busy()
        os.kill(victim, signal.SIGKILL)
        reports: list[JudgeReport] = work.join()
        assert work.settled() == (3, 3)
        assert pool.replacements >= 1 and pool.stats.broken >= 1
        pids = _actor_pids(judge)
        assert victim not in pids and len(pids) == 3  # replaced by a fresh actor where the CPU came free
        if box == "docker":  # the victim's container stopped with it; the replacement's start removed it
            assert wait_until_gone(lambda: _containers_of([victim]), 15) == []
    # The driver's progress line said so.
    assert any("3/3 actors alive" in ln and "jobs in flight" in ln and "results/s" in ln for ln in lines), lines
    assert any("1 actor(s) replaced" in ln for ln in lines), lines
    assert wait_until_gone(lambda: sandbox_processes(victim, zombies=False)) == []
    assert wait_no_actors() == []
    if box == "docker":  # the engine lists a container until its removal is through
        assert wait_until_gone(lambda: _containers_of(pids), 15) == []
    scores = {s.key: r.score for s, r in zip(problem.solutions, reports, strict=True)}
    assert not [r for r in reports if r.has_system_error], [(t.name, t.message) for r in reports
                                                            for t in r.system_errors()]
    assert scores == {s.key: s.expected_score for s in problem.solutions}


def test_the_drivers_judge_profile_goes_to_the_actors(cluster, tmp_path: Path) -> None:
    from ioi_eval.problem.writer import write_plain_package

    tests = {"1-1": ("2 3\n", "5\n")}
    package = write_plain_package(
        tmp_path / "sum", problem={"code": "sum", "name": "Sum", "time_limit": 1.0, "memory_limit": 256 << 20,
                                   "score_precision": 2, "task_type": "Batch"},
        subtasks={"01-all": {"score": 100, "testcases": list(tests)}}, tests=tests)
    problem = load_problem(package)
    # Right only where the profile defines ONLINE_JUDGE (codeforces does, cms does not).
    code = ("#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);\n#ifdef ONLINE_JUDGE\n"
            "printf(\"%lld\\n\",a+b);\n#else\nprintf(\"0\\n\");\n#endif\n}\n")
    sub = Submission(name="sum.cpp", language="cpp", source=code.encode())
    for profile, score in (("codeforces", 100), ("cms", 0)):
        with Judge("ray", workers=1, profile=profile) as judge:
            assert judge.judge(problem, sub).score == score, profile
            assert judge.submission_pool is not None and judge.capacity == 1
            assert "cpp" in judge.info.tools and judge.box_info == judge.info  # a node's box, as a reward checks it
    assert wait_no_actors() == []


@pytest.fixture(scope="module", params=["submission path", "box path"])
def hostile(cluster, request: pytest.FixtureRequest):
    """The suite on the submission path (whole cases judged in the actors) or the box path (the judge on the
    driver, over the actors' boxes)."""
    with AdversarialSuite("ray", workers=2, submissions=request.param == "submission path") as suite:
        assert (suite.judge.submission_pool is not None) == (request.param == "submission path")
        harnesses = suite.harnesses()
        assert len(harnesses) == 2 and all(h.checkable for h in harnesses)  # the actors: its process checks apply
        assert suite.info.harness_pid in _actor_pids(suite.judge)  # the cases aim at an actor, not the driver
        yield suite
    assert wait_no_actors() == []


@pytest.mark.parametrize("case", get_cases(PROCESS_CASES + FILE_CASES), ids=lambda c: c.name)
def test_hostile_submission_holds_on_ray(hostile: AdversarialSuite, case) -> None:
    result = hostile.run_case(case)  # its checks include no run's process left under an actor's sandbox uids
    assert result.held, f"{case.name} ({case.about}):\n  " + "\n  ".join(result.problems)
    for pid in _actor_pids(hostile.judge):  # and none left at all (zombies aside), however long it takes
        assert wait_until_gone(lambda pid=pid: sandbox_processes(pid, zombies=False)) == [], case.name

