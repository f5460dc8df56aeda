"""The library entry point of a run (``ioi-eval run`` and ``ioi-eval ci``): config, store, engine, judge, scores.

It draws nothing: what happens is reported through the :class:`~ioi_eval.run.pipeline.Progress` events the caller
passes (the CLI turns them into progress bars and notes; a library caller may pass none).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import IoiEvalError
from ..generate.base import SamplingConfig
from ..judge.judge import Judge
from ..judge.task_types import TASK_TYPES
from ..prompts import resolve_template
from ..scoring.run_score import RunScore, score_run
from ..sources import is_local, load_problem_set
from .config import RunConfig, default_run_dir, template_digest
from .pipeline import Progress, Runner, RunResult


def _engine_factory(engine: str, model: str, options: dict):
    if engine == "reference":
        return None

    def make():
        from ..generate import get_engine

        return get_engine(engine, model, **{k: v for k, v in options.items() if v is not None})

    return make


@dataclass
class RunOutcome:
    """What one ``ioi-eval run`` execution left: where, its scores, and what went wrong this time."""

    folder: Path
    config: RunConfig
    score: RunScore
    result: RunResult


def evaluate(*, model: str, problems: str, engine: str, engine_options: dict, samples: int, per: str,
             language: str, only: list[str] | None, temperature: float, top_p: float, max_tokens: int | None,
             seed: int, prompt_template: Path | None, run_dir: Path | None, new_run: bool, backend: str,
             workers: int | None, judge_profile: str = "cms", progress: Progress | None = None) -> RunOutcome:
    """Run (or resume) an evaluation and score it; ``summary.json`` is written in the run folder.

    Raises :class:`IoiEvalError` when the run cannot go on (what was stored stays for a resume).
    """
    progress = progress or Progress()
    prompt_template = resolve_template(prompt_template)  # a file, or a shipped name such as 'source'
    if prompt_template is not None and not prompt_template.is_file():
        raise IoiEvalError(f"{prompt_template}: prompt template not found")
    problem_list = load_problem_set(problems, only)
    if engine != "reference":
        # Models answer with code, so problems whose submissions are output files are left out.
        skipped = [p.code for p in problem_list if not TASK_TYPES[p.task_type].takes_code]
        if skipped:
            progress.on_note(f"skipping output-only problems (models answer with code): {', '.join(skipped)}")
        problem_list = [p for p in problem_list if TASK_TYPES[p.task_type].takes_code]
    if not problem_list:
        raise IoiEvalError(f"{problems}: no problems to evaluate")
    config = RunConfig(
        model=model, engine=engine, problems=str(Path(problems).resolve()) if is_local(problems) else problems,
        problem_codes=sorted(p.code for p in problem_list), samples=samples, per=per, language=language,
        sampling=SamplingConfig(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed),
        engine_options=engine_options, prompt_template_sha256=template_digest(prompt_template),
        judge_profile=judge_profile)
    folder = run_dir or default_run_dir(Path("runs"), model, problems)
    if new_run and (folder / "run.sqlite").exists():
        folder = folder.with_name(f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}")
    progress.on_start(folder)
    judge = Judge(backend=backend, workers=workers, profile=judge_profile)
    runner = Runner(config, folder, judge, problem_list, _engine_factory(engine, model, engine_options),
                    prompt_template)
    try:
        runner.prepare()
        result = runner.execute(progress)
        score = score_run(runner.store, runner.problems, model)
    finally:
        runner.close()
        judge.close()
    (folder / "summary.json").write_text(score.model_dump_json(indent=2))
    return RunOutcome(folder=folder, config=config, score=score, result=result)
