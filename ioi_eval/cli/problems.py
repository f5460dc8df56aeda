"""``ioi-eval problems ...``: list, validate and export the problems of a source."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    BackendOpt,
    ProfileOpt,
    RayAddressOpt,
    RayBoxOpt,
    SourceArg,
    WorkersOpt,
    backend_options,
    err,
    out,
    reported_errors,
)

app = typer.Typer(help="Inspect and validate problem packages.", no_args_is_help=True)


@app.command("validate")
def validate(
    path: SourceArg,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON summary on stdout")] = False,
    judge_profile: ProfileOpt = "cms",
    ray_address: RayAddressOpt = None,
    ray_box: RayBoxOpt = "local",
) -> None:
    """Judge every reference solution and check it behaves as its category says."""
    import json

    from rich.table import Table

    from ..judge.judge import Judge
    from ..judge.validate import SolutionCheck, validate_problem
    from ..sources import resolve_source
    from ..sources.loader import load_problem

    summary = []
    all_ok = True
    with reported_errors():
        roots = resolve_source(path).packages()
        with Judge(backend=backend, workers=workers, profile=judge_profile,
                   **backend_options(backend, ray_address, ray_box)) as j:
            for root in roots:
                prob = load_problem(root)
                table = Table(title=f"{prob.code} ({prob.task_type}, {len(prob.tests)} tests)")
                for col in ("solution", "score", "verdicts", "result"):
                    table.add_column(col)

                def show(c: SolutionCheck, table: Table = table) -> None:
                    verdicts = ", ".join(sorted(v.value for v in c.report.verdicts()))
                    table.add_row(c.solution.key, f"{c.report.score:g}/{c.report.max_score:g}", verdicts,
                                  "[green]ok[/green]" if c.ok else "[red]" + "; ".join(c.problems) + "[/red]")

                checks = validate_problem(j, prob, show)
                if not as_json:
                    out.print(table)
                if not checks:
                    err.print(f"[yellow]{prob.code}: no reference solutions in solutions/[/yellow]")
                all_ok &= all(c.ok for c in checks)
                summary.append({"problem": prob.code, "solutions": [
                    {"solution": c.solution.key, "score": c.report.score, "ok": c.ok, "problems": c.problems}
                    for c in checks]})
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    if not all_ok:
        err.print("[bold red]some solutions do not behave as their category says[/bold red]")
        raise typer.Exit(1)


@app.command("list")
def list_problems(source: SourceArg) -> None:
    """List the problems a source holds."""
    from rich.table import Table

    from ..sources import load_problem_set

    table = Table()
    for col in ("code", "name", "type", "TL", "ML", "subtasks", "tests", "points"):
        table.add_column(col)
    with reported_errors():
        for p in load_problem_set(source):
            table.add_row(p.code, p.name, p.task_type, f"{p.time_limit:g}s", f"{p.memory_limit >> 20} MiB",
                          str(len(p.subtasks)), str(len(p.tests)), f"{p.max_score:g}")
    out.print(table)


@app.command("export")
def export_problems(
    source: SourceArg,
    to: Annotated[Path, typer.Option("--to", help="folder to write CMS-layout packages into")],
    force: Annotated[bool, typer.Option("--force", help="replace packages already in the folder")] = False,
) -> None:
    """Write a source's problems as CMS-layout packages (the IOI 2024 layout), one folder each."""
    from ..sources.export import export_source

    with reported_errors():
        written = export_source(source, to, force=force)
    for path in written:
        out.print(str(path))
