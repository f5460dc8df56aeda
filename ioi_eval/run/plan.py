"""What a run asks for: which problems it takes, and its generation requests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..generate import engine_class
from ..generate.base import GenerationRequest
from ..judge.task_types import TASK_TYPES
from ..problem.model import Problem
from ..prompts import TEMPLATES_DIR, build_prompt
from ..record.config import RunConfig

Planner = Callable[[Sequence[Problem], int], tuple[list[GenerationRequest], dict[str, str]]]


def own_planner(engine: str) -> Planner | None:
    """The engine's own ``plan_requests`` when it answers from the packages (reference), else None."""
    return getattr(engine_class(engine), "plan_requests", None)


def select_problems(engine: str, problems: list[Problem]) -> tuple[list[Problem], list[str]]:
    """The problems a run with ``engine`` takes, and the codes of those it leaves out.

    A model answers with code, so output-only problems are left out; an engine that plans its own requests from
    the packages takes them all.
    """
    if own_planner(engine) is not None:
        return problems, []
    skipped = [p.code for p in problems if not TASK_TYPES[p.task_type].takes_code]
    return [p for p in problems if TASK_TYPES[p.task_type].takes_code], skipped


def with_system_prompt(messages: list[dict[str, str]], system: str | None) -> list[dict[str, str]]:
    """``messages`` with ``system`` as their system message (replacing the template's; None: as they are)."""
    if system is None:
        return messages
    rest = [m for m in messages if m["role"] != "system"]
    return ([{"role": "system", "content": system}] if system else []) + rest


def build_requests(config: RunConfig, problems: list[Problem], template: Path | None
                   ) -> tuple[list[GenerationRequest], dict[str, str]]:
    """All generation requests of a run, and the source file of each key an engine answers from a file."""
    planner = own_planner(config.engine)
    if planner is not None:
        return planner(problems, config.samples)
    requests: list[GenerationRequest] = []
    base_seed = config.sampling.seed or 0
    for p in problems:
        targets = [st for st in p.subtasks if st.points > 0] if config.per == "subtask" else [None]
        for st in targets:
            messages = with_system_prompt(build_prompt(p, st, config.language, template), config.system_prompt)
            for i in range(config.samples):
                key = f"{p.code}/{st.name if st else '-'}/{i}"
                requests.append(GenerationRequest(key=key, problem=p.code, subtask=st.name if st else None,
                                                  sample=i, language=config.language, messages=messages,
                                                  seed=base_seed + i))
    return requests, {}


#: The target of an input-generator request: no subtask name can take it, so a replay source never matches a
#: sample's row to it (only a row with its key).
GENERATOR_TARGET = "#input-generator"
GENERATOR_TEMPLATE = TEMPLATES_DIR / "input_generator.j2"


def generator_key(problem: str) -> str:
    """The key of a problem's input-generator request."""
    return f"{problem}/{GENERATOR_TARGET}/0"


def build_generator_requests(config: RunConfig, problems: list[Problem]) -> list[GenerationRequest]:
    """One input-generator request per problem (``--generate-inputs``); none for engines that plan their own."""
    if config.generate_inputs <= 0 or own_planner(config.engine) is not None:
        return []
    return [GenerationRequest(key=generator_key(p.code), problem=p.code, subtask=GENERATOR_TARGET, sample=0,
                              language=config.language,
                              messages=build_prompt(p, None, config.language, GENERATOR_TEMPLATE),
                              seed=config.sampling.seed or 0) for p in problems]
