"""``ioi-eval select``: points each submission strategy wins from the same samples, under submission budgets."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .common import BackendOpt, ProfileOpt, WorkersOpt, err, out, reported_errors

STRATEGY_HELP = "strategies, comma-separated (default: all): oracle, openr1, ioi-eval, random, public-tests, cluster"


def select(
    run_dirs: Annotated[list[Path], typer.Argument(help="run folders (runs/<id>) made by `ioi-eval run`")],
    strategy: Annotated[str | None, typer.Option("--strategy", "-s", help=STRATEGY_HELP)] = None,
    budget: Annotated[str, typer.Option("--budget", "-b", help="submission budgets, comma-separated; 'all': no limit"
                                        )] = "1,5,10,50,all",
    seed: Annotated[int, typer.Option("--seed", help="seed of the random strategy's draws")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print select.json to stdout instead of tables")] = False,
    as_md: Annotated[bool, typer.Option("--md", help="print Markdown tables instead of rich ones")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="also write the selection pages into this folder")] = None,
    problems: Annotated[str | None, typer.Option("--problems", help="the runs' problems, where they moved")] = None,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    judge_profile: ProfileOpt = "cms",
) -> None:
    """Score each run's problems under each strategy and budget; write select.json into each run folder.

    Strategies that need extra sandbox runs (cluster) cache them in the run store: a second select runs nothing.
    """
    with reported_errors():
        select_command(run_dirs, strategy, budget, seed, as_json, as_md, html, problems, backend, workers,
                       judge_profile, out=out, err=err)


def select_command(run_dirs: list[Path], strategy: str | None, budget: str, seed: int, as_json: bool, as_md: bool,
                   html: Path | None, problems: str | None, backend: str, workers: int | None,
                   judge_profile: str = "cms", out: Console | None = None, err: Console | None = None) -> None:
    """The command's work (see :func:`select`)."""
    from ..errors import SelectError
    from ..judge.judge import Judge
    from ..select.evaluate import SELECT_JSON, parse_budgets, parse_strategies, select_runs, write_json
    from ..select.model import SelectReport
    from ..select.render import print_tables, to_markdown

    out, err = out or Console(), err or Console(stderr=True)
    if as_json and as_md:
        raise SelectError("--json and --md: choose one")
    strategies = parse_strategies(strategy)
    budgets = parse_budgets(budget)
    report = select_runs(run_dirs, strategies, budgets, seed,
                         lambda: Judge(backend=backend, workers=workers, profile=judge_profile), problems)
    for run in report.runs:  # each run folder keeps its own figures (the leaderboard site reads them)
        write_json(SelectReport(seed=report.seed, budgets=report.budgets, strategies=report.strategies, runs=[run]),
                   Path(run.path) / SELECT_JSON)
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2, by_alias=True) + "\n")
    elif as_md:
        sys.stdout.write(to_markdown(report))
    else:
        print_tables(report, out)
    if html is not None:
        from ..report.selection import write_selection_pages

        index = write_selection_pages([report], html)
        err.print(f"selection pages written: {index}", markup=False, highlight=False)
