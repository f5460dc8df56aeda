"""What a run asks for: its generation requests, from the problems and the run's configuration."""

from __future__ import annotations

from pathlib import Path

from ..generate.base import GenerationRequest
from ..judge.languages import language_of
from ..problem.model import Problem
from ..prompts import build_prompt
from .config import RunConfig

REFERENCE = "reference"


def build_requests(config: RunConfig, problems: list[Problem], template: Path | None
                   ) -> tuple[list[GenerationRequest], dict[str, str]]:
    """All generation requests of a run, and (reference runs) the source file of each key."""
    requests: list[GenerationRequest] = []
    sources: dict[str, str] = {}
    base_seed = config.sampling.seed or 0
    for p in problems:
        if config.engine == REFERENCE:
            refs = [s for s in p.solutions if s.category == "model_solution"]
            for i, sol in enumerate(refs[: config.samples]):
                key = f"{p.code}/{REFERENCE}/{i}"
                lang = "outputs" if p.task_type == "OutputOnly" else language_of(sol.path)
                requests.append(GenerationRequest(key=key, problem=p.code, sample=i, language=lang, messages=[]))
                sources[key] = str(sol.path)
            continue
        targets = [st for st in p.subtasks if st.points > 0] if config.per == "subtask" else [None]
        for st in targets:
            messages = build_prompt(p, st, config.language, template)
            for i in range(config.samples):
                key = f"{p.code}/{st.name if st else '-'}/{i}"
                requests.append(GenerationRequest(key=key, problem=p.code, subtask=st.name if st else None,
                                                  sample=i, language=config.language, messages=messages,
                                                  seed=base_seed + i))
    return requests, sources
