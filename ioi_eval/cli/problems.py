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
    """Judge every reference solution and check it behaves as its category says.

    Ends with ``N/N ok`` (exit 0), or ``K/N ok, M failed`` (exit 1)."""
    import json

    from rich.markup import escape

    from ..judge.judge import Judge
    from ..judge.validate import validate_problem
    from ..sources import resolve_source
    from ..sources.loader import load_problem
    from ..tables import Col, print_fitted
    from .progress import progress_display

    summary = []
    n_ok = n_all = 0
    with reported_errors():
        probs = [load_problem(root) for root in resolve_source(path).packages()]
        with (Judge(backend=backend, workers=workers, profile=judge_profile,
                   **backend_options(backend, ray_address, ray_box)) as j,
              progress_display(err) as display):
            task = display.task("solutions", total=sum(len(p.solutions) for p in probs),
                                failed_label="not as their category says")
            for prob in probs:
                checks = validate_problem(j, prob, on_result=lambda c: None if c.ok else task.add_failed(),
                                          on_judged=task.advance)
                if not as_json:
                    rows = [[escape(c.solution.key), f"{c.report.score:g}/{c.report.max_score:g}",
                             ", ".join(sorted(v.value for v in c.report.verdicts())),
                             "[green]ok[/green]" if c.ok else f"[red]{escape('; '.join(c.problems))}[/red]"]
                            for c in checks]
                    print_fitted(out, [Col("solution"), Col("score", numeric=True), Col("verdicts", keep=30),
                                       Col("result")], rows,
                                 title=escape(f"{prob.code} ({prob.task_type}, {len(prob.tests)} tests)"))
                if not checks:
                    display.note(f"{prob.code}: no reference solutions in solutions/", style="yellow")
                n_ok += sum(c.ok for c in checks)
                n_all += len(checks)
                summary.append({"problem": prob.code, "solutions": [
                    {"solution": c.solution.key, "score": c.report.score, "ok": c.ok, "problems": c.problems}
                    for c in checks]})
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    line = f"{n_ok}/{n_all} ok" + (f", {n_all - n_ok} failed" if n_ok < n_all else "")
    (err if as_json else out).print(line, markup=False, highlight=False)
    if n_ok < n_all:
        err.print("[bold red]some solutions do not behave as their category says[/bold red]")
        raise typer.Exit(1)


@app.command("list")
def list_problems(source: SourceArg) -> None:
    """List the problems a source holds."""
    from rich.markup import escape

    from ..sources import load_problem_set
    from ..tables import Col, print_fitted

    with reported_errors():
        rows = [[escape(p.code), escape(p.name), p.task_type, f"{p.time_limit:g}s", f"{p.memory_limit >> 20} MiB",
                 str(len(p.subtasks)), str(len(p.tests)), f"{p.max_score:g}"] for p in load_problem_set(source)]
    print_fitted(out, [Col("code"), Col("name", keep=20), Col("type", keep=30), Col("TL", numeric=True),
                       Col("ML", numeric=True), Col("subtasks", numeric=True, short="subt.", keep=40),
                       Col("tests", numeric=True, keep=40), Col("points", numeric=True, keep=50)], rows)


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
