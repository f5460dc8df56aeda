"""The library entry point of a run (``ioi-eval run`` and ``ioi-eval ci``): config, store, engine, judge, scores.

It draws nothing: what happens is reported through the :class:`~ioi_eval.run.pipeline.Progress` events the caller
passes (the CLI turns them into progress bars and notes; a library caller may pass none).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..errors import IoiEvalError
from ..generate import engine_options as validated_options
from ..generate import get_engine
from ..generate.base import Engine, SamplingConfig
from ..judge.judge import Judge
from ..prompts import resolve_template
from ..record.config import RunConfig, default_run_dir, template_digest
from ..record.folder import RunFolder
from ..scoring.run_score import RunScore, score_run
from ..sources import is_local, load_problem_set
from .events import Progress, RunResult
from .pipeline import Runner
from .plan import select_problems


def _engine_factory(engine: str, model: str, options: BaseModel) -> Callable[[], Engine]:
    """Builds the engine when the run needs one (never when every generation is already stored)."""
    return lambda: get_engine(engine, model, options)


@dataclass
class RunOutcome:
    """What one ``ioi-eval run`` execution left: where, its scores, and what went wrong this time."""

    folder: RunFolder
    config: RunConfig
    score: RunScore
    result: RunResult


def evaluate(*, model: str, problems: str, engine: str, engine_options: BaseModel | Mapping[str, Any],
             samples: int, per: str,
             language: str, only: list[str] | None, temperature: float, top_p: float, max_tokens: int | None,
             seed: int, prompt_template: Path | None, run_dir: Path | None, new_run: bool, backend: str,
             workers: int | None, judge_profile: str = "cms", progress: Progress | None = None) -> RunOutcome:
    """Run (or resume) an evaluation and score it; the summary (``RunFolder.summary_path``) is written at the end.

    ``engine_options`` are the engine's ``Options`` (or a mapping of them); the run records those that were set.
    Raises :class:`IoiEvalError` when the run cannot go on (what was stored stays for a resume).
    """
    progress = progress or Progress()
    try:
        options = validated_options(engine, engine_options)
    except ValueError as exc:  # an unknown engine, or options it does not take
        raise IoiEvalError(f"the {engine} engine: {exc}") from exc
    prompt_template = resolve_template(prompt_template)  # a file, or a shipped name such as 'source'
    if prompt_template is not None and not prompt_template.is_file():
        raise IoiEvalError(f"{prompt_template}: prompt template not found")
    problem_list = load_problem_set(problems, only)
    problem_list, skipped = select_problems(engine, problem_list)
    if skipped:
        progress.on_note(f"skipping output-only problems (models answer with code): {', '.join(skipped)}")
    if not problem_list:
        raise IoiEvalError(f"{problems}: no problems to evaluate")
    config = RunConfig(
        model=model, engine=engine, problems=str(Path(problems).resolve()) if is_local(problems) else problems,
        problem_codes=sorted(p.code for p in problem_list), samples=samples, per=per, language=language,
        sampling=SamplingConfig(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed),
        engine_options=options.model_dump(exclude_unset=True), prompt_template_sha256=template_digest(prompt_template),
        judge_profile=judge_profile)
    folder = RunFolder(run_dir or default_run_dir(Path("runs"), model, problems))
    if new_run and folder.store_path.exists():
        folder = RunFolder(folder.root.with_name(f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}"))
    progress.on_start(folder.root)
    judge = Judge(backend=backend, workers=workers, profile=judge_profile)
    runner = Runner(config, folder.root, judge, problem_list, _engine_factory(engine, model, options),
                    prompt_template)
    try:
        runner.prepare()
        result = runner.execute(progress)
        score = score_run(runner.store, runner.problems, model)
    finally:
        runner.close()
        judge.close()
    folder.summary_path.write_text(score.model_dump_json(indent=2))
    return RunOutcome(folder=folder, config=config, score=score, result=result)
