"""The packages' own model solutions, served as if an engine had written them (``--model reference``).

A reference run checks a problem set and the judge end to end without a model: each problem's
``solutions/model_solution/`` files are its "generations" (up to ``samples`` of them), judged from their files.
An output-only problem's model solution is its outputs folder or zip, so this engine takes every problem,
output-only ones too, and decides its own requests (:meth:`ReferenceEngine.plan_requests`) instead of being
asked one per prompt.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from pydantic import BaseModel

from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.judge.languages import language_of
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.problem.model import Problem

#: The solution category a reference run judges, and the middle part of its keys (``<code>/reference/<i>``).
CATEGORY = "model_solution"
NAME = "reference"


class Options(BaseModel, extra="forbid"):
    """The ``reference`` engine takes no options."""


class ReferenceEngine:
    """An :class:`~ioi_eval.generate.base.Engine` whose completions are the packages' model solutions.

    Its completions are empty (``finish_reason`` ``"reference"``): the run judges each request from the solution
    file recorded for its key when it was planned.
    """

    name = NAME

    def __init__(self, model: str = NAME) -> None:
        self.model = model

    @classmethod
    def from_options(cls, model: str, options: Options) -> ReferenceEngine:
        """The engine (``model`` is only a label: there is nothing to load)."""
        return cls(model)

    @staticmethod
    def plan_requests(problems: Sequence[Problem], samples: int
                      ) -> tuple[list[GenerationRequest], dict[str, str]]:
        """One request per model solution (at most ``samples`` a problem), and the solution's path for each key.

        Keys are ``<code>/reference/<i>``; the language is the solution file's, or ``outputs`` for an output-only
        problem (whose solution is an outputs folder or zip).
        """
        requests: list[GenerationRequest] = []
        sources: dict[str, str] = {}
        for p in problems:
            refs = [s for s in p.solutions if s.category == CATEGORY]
            for i, sol in enumerate(refs[:samples]):
                key = f"{p.code}/{NAME}/{i}"
                lang = language_of(sol.path) if TASK_TYPES[p.task_type].takes_code else "outputs"
                requests.append(GenerationRequest(key=key, problem=p.code, sample=i, language=lang, messages=[]))
                sources[key] = str(sol.path)
        return requests, sources

    def generate(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig) -> Iterator[Completion]:
        """An empty completion per request: the code is the solution file recorded with the request."""
        for req in requests:
            yield Completion(key=req.key, text="", finish_reason=NAME)

    def preflight(self) -> None:
        """Always ready: the solutions are the packages' own files, checked when the requests are planned."""

    def close(self) -> None:
        """Nothing to release."""
