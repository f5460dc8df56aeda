"""The ``ioi-eval run`` command: wiring of config, store, engine, judge, progress and summary."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..errors import IoiEvalError
from ..generate.base import SamplingConfig
from ..judge.judge import Judge
from ..prompts import resolve_template
from ..record.config import RunConfig, default_run_dir, template_digest
from ..record.folder import RunFolder
from ..sources import is_local, load_problem_set
from .medals import medal_line
from .pipeline import Progress as RunProgress
from .pipeline import Runner, RunResult
from .scoring import RunScore, score_run


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

    folder: RunFolder
    config: RunConfig
    score: RunScore
    result: RunResult


def evaluate(*, model: str, problems: str, engine: str, engine_options: dict, samples: int, per: str,
             language: str, only: list[str] | None, temperature: float, top_p: float, max_tokens: int | None,
             seed: int, prompt_template: Path | None, run_dir: Path | None, new_run: bool, backend: str,
             workers: int | None, err: Console, judge_profile: str = "cms") -> RunOutcome:
    """Run (or resume) an evaluation and score it; the summary (``RunFolder.summary_path``) is written at the end.

    Raises :class:`IoiEvalError` when the run cannot go on (what was stored stays for a resume).
    """
    prompt_template = resolve_template(prompt_template)  # a file, or a shipped name such as 'source'
    if prompt_template is not None and not prompt_template.is_file():
        raise IoiEvalError(f"{prompt_template}: prompt template not found")
    problem_list = load_problem_set(problems, only)
    if engine != "reference":
        skipped = [p.code for p in problem_list if p.task_type == "OutputOnly"]
        if skipped:
            err.print(f"[yellow]skipping output-only problems (models answer with code): {', '.join(skipped)}[/]")
        problem_list = [p for p in problem_list if p.task_type != "OutputOnly"]
    if not problem_list:
        raise IoiEvalError(f"{problems}: no problems to evaluate")
    config = RunConfig(
        model=model, engine=engine, problems=str(Path(problems).resolve()) if is_local(problems) else problems,
        problem_codes=sorted(p.code for p in problem_list), samples=samples, per=per, language=language,
        sampling=SamplingConfig(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed),
        engine_options=engine_options, prompt_template_sha256=template_digest(prompt_template),
        judge_profile=judge_profile)
    folder = RunFolder(run_dir or default_run_dir(Path("runs"), model, problems))
    if new_run and folder.store_path.exists():
        folder = RunFolder(folder.root.with_name(f"{folder.name}-{time.strftime('%Y%m%d-%H%M%S')}"))
    err.print(f"run folder: {folder.root}")
    judge = Judge(backend=backend, workers=workers, profile=judge_profile)
    runner = Runner(config, folder.root, judge, problem_list, _engine_factory(engine, model, engine_options),
                    prompt_template)
    try:
        runner.prepare()
        result = _execute_with_progress(runner, err)
        score = score_run(runner.store, runner.problems, model)
    finally:
        runner.close()
        judge.close()
    folder.summary_path.write_text(score.model_dump_json(indent=2))
    return RunOutcome(folder=folder, config=config, score=score, result=result)


def run_command(*, as_json: bool, out: Console, err: Console, **options) -> int:
    """Run (or resume) an evaluation (``options``: those of :func:`evaluate`); returns the exit status."""
    outcome = evaluate(err=err, **options)
    score, result = outcome.score, outcome.result
    if as_json:
        sys.stdout.write(score.model_dump_json() + "\n")
    else:
        render_summary(score, out)
    if result.failed_generations:
        err.print(f"[yellow]{result.failed_generations} generation(s) failed for good (re-run to retry them)[/]")
    if result.judge_errors:
        err.print(f"[bold red]{len(result.judge_errors)} submission(s) could not be judged[/] (re-run to retry):")
        for line in result.judge_errors[:10]:
            err.print(f"  {line}")
        return 1
    return 0


class RateColumn(ProgressColumn):
    """Throughput of a task in items per second."""

    def render(self, task) -> Text:
        return Text(f"{task.speed:.2f}/s" if task.speed else "-/s", style="cyan")


def _execute_with_progress(runner: Runner, console: Console):
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bar:
        gen = bar.add_task("generate", total=None)
        jud = bar.add_task("judge", total=None)

        def totals(n_gen: int, n_judge: int) -> None:
            bar.update(gen, total=n_gen)
            bar.update(jud, total=n_judge)

        def generated(c) -> None:
            bar.advance(gen)
            if not c.failed:
                task = bar.tasks[jud]
                bar.update(jud, total=(task.total or 0) + 1)

        return runner.execute(RunProgress(on_generated=generated, on_judged=lambda k, r: bar.advance(jud),
                                          on_totals=totals))


def render_summary(score: RunScore, console: Console) -> None:
    """The end-of-run table: per problem, subtask points, total, oracle, mean; and the medal line."""
    table = Table(title=f"{score.model}")
    for col in ("problem", "subtasks (best of selected)", "score", "oracle", "mean single", "used", "no code",
                "failed"):
        table.add_column(col)
    for p in score.problems:
        subs = " ".join(f"{s.best:g}/{s.points:g}" for s in p.subtasks if s.points > 0)
        table.add_row(p.problem, subs, f"{p.score:g}/{p.max_score:g}", f"{p.oracle:g}", f"{p.mean_single:.2f}",
                      str(p.submissions_used), str(p.no_code), str(p.failed_generations))
    console.print(table)
    console.print(f"[bold]Total: {score.total:g} / {score.max_total:g}[/bold]  (oracle {score.oracle_total:g}, "
                  f"mean single submission {score.mean_single_total:g})")
    if score.codeforces is not None:
        cf = score.codeforces
        shown = {1, 5, 10, len(cf.pass_at_k)}
        ks = ", ".join(f"pass@{k} {v:.3f}" for k, v in cf.pass_at_k.items() if k in shown)
        console.print(f"[bold]Codeforces: {cf.solved} / {cf.problems} solved[/bold]  ({ks}; "
                      f"mean partial {cf.partial_mean:.3f})")
    console.print(medal_line({p.problem for p in score.problems}, score.total))
