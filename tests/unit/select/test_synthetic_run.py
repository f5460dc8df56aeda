"""``select`` on a synthetic run store (judge reports made by hand on a bundled package): exact points, no box."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioi_eval.errors import SelectError
from ioi_eval.generate.base import Completion, GenerationRequest
from ioi_eval.judge.judge import build_report
from ioi_eval.judge.results import CompileResult, TestResult, Verdict
from ioi_eval.judge.score_types import get_score_type
from ioi_eval.record.config import RunConfig
from ioi_eval.record.store import RunStore
from ioi_eval.select.evaluate import parse_budgets, parse_strategies, select_run
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

PAIRSUM = load_problem(PROBLEMS / "pairsum")  # 00-samples 0, 01-small 25, 02-pair-exists 30, 03-full 45


def _report(passes: set[str] | None) -> str:
    """A report passing the tests ``passes`` (None: every test; an empty set and CE: see below)."""
    names = PAIRSUM.test_order()
    tests = {n: TestResult(name=n, verdict=Verdict.AC, score=1.0) if passes is None or n in passes
             else TestResult(name=n, verdict=Verdict.WA, score=0.0) for n in names}
    return build_report(PAIRSUM, CompileResult(ok=True), tests, get_score_type(PAIRSUM.score_type)).model_dump_json()


def _ce() -> str:
    tests = {n: TestResult(name=n, verdict=Verdict.CE) for n in PAIRSUM.test_order()}
    return build_report(PAIRSUM, CompileResult(ok=False, message="error"), tests,
                        get_score_type(PAIRSUM.score_type)).model_dump_json()


SMALL = {"0-01", "0-02", "1-01", "1-02", "1-03", "1-04", "1-05"}
# key: (text length, completion tokens, report or None for no code, judged)
SAMPLES = {
    "pairsum/03-full/0": (500, 50, _report(set(PAIRSUM.test_order()) - {"0-02"}), True),  # fails an example: 30
    "pairsum/03-full/1": (100, 10, _report(None), True),     # everything, but the shortest: 100
    "pairsum/03-full/2": (900, 90, _report(SMALL), True),    # the examples and subtask 1: 25, the longest
    "pairsum/03-full/3": (50, 5, None, True),                # no code
    "pairsum/03-full/4": (2000, 200, _ce(), True),           # does not compile
    "pairsum/01-small/0": (300, 30, _report(SMALL), True),   # 25
    "pairsum/02-pair-exists/0": (300, 30, _report(None), False),  # code, not judged yet: left out
}


@pytest.fixture
def synthetic_run(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    store = RunStore(run_dir / "run.sqlite")
    config = RunConfig(model="synthetic", engine="replay", problems=str(PROBLEMS), problem_codes=["pairsum"],
                       samples=5)
    store.set_meta("config", config.stored())
    store.add_requests([GenerationRequest(key=k, problem="pairsum", subtask=k.split("/")[1],
                                          sample=int(k.split("/")[2]), language="cpp", messages=[])
                        for k in SAMPLES])
    for key, (length, tokens, report, judged) in SAMPLES.items():
        store.save_completion(Completion(key=key, text="x" * length, completion_tokens=tokens))
        if report is None:
            store.save_extraction(key, None, "no_code")
            continue
        store.save_extraction(key, "int main() {}", "ok")
        if judged:
            store.save_report(key, report, 0.0)
    store.close()
    return run_dir


def _never() -> None:
    raise AssertionError("no strategy here needs the sandbox")


def test_exact_points_by_construction(synthetic_run: Path) -> None:
    strategies = parse_strategies("oracle,openr1,ioi-eval,random,public-tests")
    run = select_run(synthetic_run, strategies, parse_budgets("1,2,all"), 0, _never)
    [p] = run.problems
    assert (p.samples, p.usable) == (6, 4)  # the unjudged one is left out; no code and CE are not usable
    points = {name: {b: c.points for b, c in cells.items()} for name, cells in p.scores.items()}
    assert points["oracle"] == {"1": 100.0, "2": 100.0, "all": 100.0}
    # 03-full's group first: the longest passing the examples (25, solves 01-small, so that group is skipped);
    # then 03-full again: the one that solves everything
    assert points["ioi-eval"] == {"1": 25.0, "2": 100.0, "all": 100.0}
    assert points["public-tests"] == {"1": 25.0, "2": 100.0, "all": 100.0}
    # open-r1 never skips 01-small (the bug): its second submission is the 01-small sample, worth nothing new
    assert points["openr1"] == {"1": 25.0, "2": 25.0, "all": 100.0}
    assert points["random"]["all"] == 100.0 and p.scores["random"]["1"].submitted == 1
    assert run.totals["oracle"]["all"].points == 100.0 and run.work.runs == 0 and p.inputs is None


def test_public_tests_drops_the_sample_that_fails_an_example(synthetic_run: Path) -> None:
    # only the 30-point sample solves 02-pair-exists alone: without it and the all-solver, public-tests loses it
    store = RunStore(synthetic_run / "run.sqlite")
    store.save_report("pairsum/03-full/1", _report(SMALL), 0.0)  # the all-solver now only gets 25
    store.close()
    run = select_run(synthetic_run, parse_strategies("oracle,public-tests,ioi-eval"), parse_budgets("all"), 0,
                     _never)
    scores = run.problems[0].scores
    assert scores["oracle"]["all"].points == 55.0  # 25 + 30 (the sample failing an example)
    assert scores["ioi-eval"]["all"].points == 55.0
    assert scores["public-tests"]["all"].points == 25.0


def test_a_store_without_config_is_a_clear_error(tmp_path: Path) -> None:
    RunStore(tmp_path / "run" / "run.sqlite").close()
    with pytest.raises(SelectError, match="holds no configuration"):
        select_run(tmp_path / "run", parse_strategies("oracle"), [None], 0, _never)
