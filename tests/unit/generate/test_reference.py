"""ReferenceEngine: the packages' model solutions as a run's generations, planned by the engine itself."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ioi_eval.generate import get_engine
from ioi_eval.generate.base import SamplingConfig
from ioi_eval.generate.reference import Options, ReferenceEngine
from ioi_eval.problem.model import Solution
from ioi_eval.record.config import RunConfig
from ioi_eval.run.plan import build_requests, select_problems
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS


@pytest.fixture(scope="module")
def problems():
    return [load_problem(PROBLEMS / code) for code in ("pairsum", "dominoes")]


def test_plan_one_request_per_model_solution(problems) -> None:
    requests, sources = ReferenceEngine.plan_requests(problems, 50)
    assert [(r.key, r.problem, r.subtask, r.sample, r.language, r.messages, r.seed) for r in requests] == [
        ("pairsum/reference/0", "pairsum", None, 0, "cpp", [], None),
        ("dominoes/reference/0", "dominoes", None, 0, "outputs", [], None),  # output-only: its outputs folder
    ]
    assert sources == {"pairsum/reference/0": str(PROBLEMS / "pairsum/solutions/model_solution/pairsum.cpp"),
                       "dominoes/reference/0": str(PROBLEMS / "dominoes/solutions/model_solution/matching")}


def test_plan_takes_only_model_solutions_up_to_samples(problems) -> None:
    pairsum = problems[0]
    root = pairsum.root / "solutions"
    extra = (Solution(category="model_solution", path=root / "model_solution/second.py"),
             Solution(category="incorrect", path=root / "incorrect/wrong.cpp"),
             Solution(category="model_solution", path=root / "model_solution/third.cpp"))
    p = pairsum.model_copy(update={"solutions": pairsum.solutions + extra})
    requests, sources = ReferenceEngine.plan_requests([p], 2)
    assert [(r.key, r.language) for r in requests] == [("pairsum/reference/0", "cpp"),
                                                       ("pairsum/reference/1", "python")]
    assert sources["pairsum/reference/1"].endswith("second.py")


def test_generate_gives_empty_reference_completions(problems) -> None:
    requests, _ = ReferenceEngine.plan_requests(problems, 50)
    engine = get_engine("reference", "reference")
    assert isinstance(engine, ReferenceEngine) and engine.name == "reference"
    out = list(engine.generate(requests, SamplingConfig()))
    engine.close()
    assert [(c.key, c.text, c.finish_reason, c.failed) for c in out] == [
        ("pairsum/reference/0", "", "reference", False), ("dominoes/reference/0", "", "reference", False)]


def test_takes_no_options() -> None:
    assert Options().model_dump() == {}
    with pytest.raises(ValidationError):
        Options(samples=3)


def test_the_run_plan_asks_the_engine(problems) -> None:
    """build_requests and select_problems have no reference branch: they ask the engine."""
    config = RunConfig(model="reference", engine="reference", problems=str(PROBLEMS),
                       problem_codes=["dominoes", "pairsum"], samples=50)
    assert build_requests(config, problems, None) == ReferenceEngine.plan_requests(problems, 50)
    assert select_problems("reference", problems) == (problems, [])
    assert select_problems("replay", problems) == ([problems[0]], ["dominoes"])  # models answer with code


def test_a_prompted_engine_plans_prompts(problems) -> None:
    config = RunConfig(model="m", engine="replay", problems=str(PROBLEMS), problem_codes=["pairsum"], samples=2)
    requests, sources = build_requests(config, problems[:1], None)
    scored = [st.name for st in problems[0].subtasks if st.points > 0]
    assert [r.key for r in requests] == [f"pairsum/{st}/{i}" for st in scored for i in range(2)]
    assert sources == {} and all(r.messages for r in requests) and [r.seed for r in requests[:2]] == [0, 1]
