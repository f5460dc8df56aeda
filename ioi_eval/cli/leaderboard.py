"""``ioi-eval leaderboard``: read run folders, print a format, optionally write the site."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console

from ..errors import IoiEvalError
from .common import err, out, reported_errors


def leaderboard(
    run_dirs: Annotated[list[Path], typer.Argument(help="run folders (runs/<id>) made by `ioi-eval run`")],
    fmt: Annotated[Literal["table", "json", "csv", "md"], typer.Option(
        "--format", "-f", metavar="<format>", help="table, json, csv or md")] = "table",
    html: Annotated[Path | None, typer.Option("--html", help="also write a static site into this folder")] = None,
    contests: Annotated[Path | None, typer.Option("--contests", help="medal cutoffs JSON (default: bundled)")] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="level of the bootstrap intervals")] = 0.95,
    resamples: Annotated[int, typer.Option("--resamples", help="bootstrap resamples")] = 4000,
    seed: Annotated[int, typer.Option("--seed", help="bootstrap RNG seed")] = 0,
    push_to_hub: Annotated[str | None, typer.Option(
        "--push-to-hub", metavar="ORG/NAME", help="also push leaderboard.json, the per-sample details (Parquet) and "
        "the site to this Hub dataset (staged in ./leaderboard-hub/ORG--NAME)")] = None,
) -> None:
    """Rank runs: IOI total, per-problem scores, oracle, mean single submission (with a CI), medal."""
    with reported_errors():
        leaderboard_command(run_dirs, fmt, html, contests, confidence, resamples, seed, out=out, err=err,
                            push_to_hub=push_to_hub)


def leaderboard_command(run_dirs: list[Path], fmt: str, html: Path | None, contests: Path | None,
                        confidence: float = 0.95, resamples: int | None = None, seed: int = 0,
                        out: Console | None = None, err: Console | None = None, push_to_hub: str | None = None) -> None:
    """Print the leaderboard of ``run_dirs`` in ``fmt``; with ``html``, also write the site there; with
    ``push_to_hub`` (``ORG/NAME``), also publish it on the Hub (:mod:`ioi_eval.report.publish`)."""
    from ..report.build import build_leaderboard
    from ..report.formats import FORMATS, RENDERERS, print_table
    from ..scoring.bootstrap import RESAMPLES

    out, err = out or Console(), err or Console(stderr=True)
    if fmt not in FORMATS:
        raise IoiEvalError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    lb = build_leaderboard(run_dirs, contests, confidence=confidence, resamples=resamples or RESAMPLES, seed=seed)
    for e in lb.entries if fmt in ("json", "csv") else []:  # table and md list the notes themselves
        for note in e.notes:
            err.print(f"{e.label}: {note}", style="yellow", markup=False, highlight=False)
    if fmt == "table":
        print_table(lb, out)
    else:
        sys.stdout.write(RENDERERS[fmt](lb))
    if html is not None:
        from ..report.html import write_site

        index = write_site(lb, html)
        err.print(f"site written: {index}", markup=False, highlight=False)
    if push_to_hub is not None:
        from ..report.publish import publish

        staged, url = publish(lb, push_to_hub, site=html)
        err.print(f"pushed to the Hub: {url} (staged in {staged})", markup=False, highlight=False)
