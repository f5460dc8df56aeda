"""``ioi-eval run``: generate, extract, judge and score a problem set; and how a run is drawn on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ..run.events import Progress
from .common import err, fail, out, reported_errors
from .options import evaluate_kwargs, with_run_options
from .progress import progress_display

if TYPE_CHECKING:
    from ..run.events import RunResult
    from ..scoring.run_score import RunScore


@with_run_options
def run(
    run_options: dict,
    as_json: Annotated[bool, typer.Option("--json", help="print the run's scores as JSON")] = False,
) -> None:
    """Generate solutions, extract the code, judge it and score the set; re-run to resume."""
    from ..run.evaluate import evaluate

    with reported_errors(), progress_bars(err) as progress:
        outcome = evaluate(progress=progress, **evaluate_kwargs(run_options))
    score, result = outcome.score, outcome.result
    if as_json:
        sys.stdout.write(score.model_dump_json() + "\n")
    else:
        render_summary(score, out)
    if result.produced_nothing:
        fail(nothing_produced(result))
    if result.failed_generations:
        err.print(f"[yellow]{result.failed_generations} generation(s) failed for good (re-run to retry them)[/]")
    if result.judge_errors:
        err.print(f"[bold red]{len(result.judge_errors)} submission(s) could not be judged[/] (re-run to retry):")
        for line in result.judge_errors[:10]:
            err.print(f"  {line}", markup=False, highlight=False)
        raise typer.Exit(1)


def nothing_produced(result: RunResult) -> str:
    """The error of a run in which every generation attempted this time failed: how many, and the first causes."""
    causes = "; ".join(result.generation_errors) or "no cause recorded"
    return (f"all {result.failed_generations} generation(s) attempted failed, nothing was produced: {causes} "
            "(what was stored is kept; re-run to retry them)")


@contextmanager
def progress_bars(console: Console) -> Iterator[Progress]:
    """The run's events drawn on ``console`` (:mod:`.progress`: bars on a terminal, interval lines otherwise)."""
    with progress_display(console) as display:
        gen = display.task("generate", failed_label="failed")
        jud = display.task("judge", failed_label="judge errors")

        def totals(n_gen: int, n_judge: int) -> None:
            gen.set_total(n_gen)
            jud.set_total(n_judge)

        yield Progress(on_start=lambda folder: display.info(f"run folder: {folder}"),
                       on_note=lambda message: display.note(message, style="yellow"),
                       on_generated=lambda c: gen.advance(failed=bool(c.failed)),
                       on_queued=lambda key: jud.add_total(),
                       on_judged=lambda k, r: jud.advance(failed=r is None), on_totals=totals)


def render_summary(score: RunScore, console: Console) -> None:
    """The end-of-run table: per problem, subtask points, total, oracle, mean; and the medal line."""
    from ..scoring.medals import medal_line
    from ..tables import Col, print_fitted

    columns = [Col("problem"), Col("subtasks (best of selected)", short="subtasks", keep=35),
               Col("score", numeric=True), Col("oracle", numeric=True, keep=30),
               Col("mean single", short="mean", numeric=True, keep=40), Col("used", numeric=True, keep=20),
               Col("no code", numeric=True, keep=25), Col("failed", numeric=True, keep=25)]
    rows = [[escape(p.problem), " ".join(f"{s.best:g}/{s.points:g}" for s in p.subtasks if s.points > 0),
             f"{p.score:g}/{p.max_score:g}", f"{p.oracle:g}", f"{p.mean_single:.2f}", str(p.submissions_used),
             str(p.no_code), str(p.failed_generations)] for p in score.problems]
    print_fitted(console, columns, rows, title=escape(score.model))
    console.print(f"[bold]Total: {score.total:g} / {score.max_total:g}[/bold]  (oracle {score.oracle_total:g}, "
                  f"mean single submission {score.mean_single_total:g})")
    if score.codeforces is not None:
        cf = score.codeforces
        shown = {1, 5, 10, len(cf.pass_at_k)}
        ks = ", ".join(f"pass@{k} {v:.3f}" for k, v in cf.pass_at_k.items() if k in shown)
        console.print(f"[bold]Codeforces: {cf.solved} / {cf.problems} solved[/bold]  ({ks}; "
                      f"mean partial {cf.partial_mean:.3f})")
    console.print(medal_line({p.problem for p in score.problems}, score.total))
