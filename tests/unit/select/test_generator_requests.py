"""``ioi-eval run --generate-inputs``: one input-generator request per problem, with its own prompt."""

from __future__ import annotations

from ioi_eval.record.config import RunConfig
from ioi_eval.run.plan import GENERATOR_TARGET, build_generator_requests, generator_key
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS


def test_one_generator_request_per_problem() -> None:
    problems = [load_problem(PROBLEMS / code) for code in ("rainfall", "towers", "summit")]
    config = RunConfig(model="m", engine="replay", problems=str(PROBLEMS), problem_codes=["rainfall", "towers",
                                                                                          "summit"], samples=2)
    assert build_generator_requests(config, problems) == []  # not asked for
    asked = config.model_copy(update={"generate_inputs": 4})
    requests = build_generator_requests(asked, problems)
    assert [r.key for r in requests] == [generator_key(p.code) for p in problems]
    assert {r.subtask for r in requests} == {GENERATOR_TARGET}  # no subtask of any package has this name
    user = {r.problem: r.messages[-1]["content"] for r in requests}
    assert "Rainfall Log" in user["rainfall"] and "integer seed" in user["rainfall"]
    assert "Do not solve the problem" in user["rainfall"]
    assert "the grader reads" in user["towers"] and "the grader reads" not in user["rainfall"]
    reference = asked.model_copy(update={"engine": "reference"})
    assert build_generator_requests(reference, problems) == []  # the packages' own solutions: no model to ask
