"""The ``ioi-eval`` command line."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import IoiEvalError

app = typer.Typer(help="Judge code models on IOI-style problems exactly as the official CMS judge would.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
problems_app = typer.Typer(help="Inspect and validate problem packages.", no_args_is_help=True)
app.add_typer(problems_app, name="problems")

out = Console()
err = Console(stderr=True)


class Language(str, Enum):
    """Submission languages."""

    cpp = "cpp"
    python = "python"


BackendOpt = Annotated[str, typer.Option("--backend", help="where to run untrusted code: local")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-j", help="parallel tests (default: CPU count)")]


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/bold red] {message}")
    raise typer.Exit(code)


@app.command()
def judge(
    problem: Annotated[Path, typer.Option("--problem", "-p", help="package folder or .zip")],
    solution: Annotated[Path, typer.Option("--solution", "-s", help="source file (or outputs folder/.zip)")],
    language: Annotated[Language | None, typer.Option("--language", "-l", help="default: from the suffix")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")] = False,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="do not use the compile cache")] = False,
) -> None:
    """Judge one solution. Exit 0 when judged (whatever the verdicts), 1 on a judge error (SE)."""
    from .judge.judge import Judge
    from .judge.submission import Submission
    from .problem.loader import load_problem
    from .render import render_report

    try:
        prob = load_problem(problem)
        sub = Submission.from_path(solution, prob.task_type, language.value if language else None)
        with Judge(backend=backend, workers=workers, use_cache=not no_cache) as j:
            report = j.judge(prob, sub)
    except IoiEvalError as exc:
        _fail(str(exc))
        return
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
    else:
        render_report(report, out)
    if report.has_system_error:
        bad = [t for t in report.tests if t.verdict.value == "SE"]
        err.print(f"[bold red]judge error (SE) on {len(bad)} test(s)[/bold red]: {bad[0].name}: {bad[0].message}")
        raise typer.Exit(1)


@problems_app.command("validate")
def validate(
    path: Annotated[Path, typer.Argument(help="a package, a .zip, or a folder of packages")],
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON summary on stdout")] = False,
) -> None:
    """Judge every reference solution and check it behaves as its category says."""
    import json

    from rich.table import Table

    from .judge.judge import Judge
    from .problem.loader import discover, load_problem
    from .validate import SolutionCheck, validate_problem

    summary = []
    all_ok = True
    try:
        roots = discover(path)
        with Judge(backend=backend, workers=workers) as j:
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
    except IoiEvalError as exc:
        _fail(str(exc))
    if as_json:
        sys.stdout.write(json.dumps(summary) + "\n")
    if not all_ok:
        err.print("[bold red]some solutions do not behave as their category says[/bold red]")
        raise typer.Exit(1)


@problems_app.command("list")
def list_problems(path: Annotated[Path, typer.Argument(help="a package or a folder of packages")]) -> None:
    """List the packages under PATH."""
    from rich.table import Table

    from .problem.loader import discover, load_problem

    table = Table()
    for col in ("code", "name", "type", "TL", "ML", "subtasks", "tests", "points"):
        table.add_column(col)
    try:
        for root in discover(path):
            p = load_problem(root)
            table.add_row(p.code, p.name, p.task_type, f"{p.time_limit:g}s", f"{p.memory_limit >> 20} MiB",
                          str(len(p.subtasks)), str(len(p.tests)), f"{p.max_score:g}")
    except IoiEvalError as exc:
        _fail(str(exc))
    out.print(table)


@app.command()
def doctor(
    overhead: Annotated[bool, typer.Option("--overhead", help="also measure the sandbox overhead")] = False,
) -> None:
    """Show which isolation and accounting mechanisms this machine gives, and how precise they are."""
    from rich.table import Table

    from .doctor import diagnose, measure_overhead

    table = Table(title="ioi-eval doctor")
    for col in ("check", "", "detail"):
        table.add_column(col)
    findings = diagnose()
    for f in findings:
        table.add_row(f.what, "[green]ok[/green]" if f.ok else "[yellow]degraded[/yellow]", f.detail)
    out.print(table)
    if overhead:
        bare, boxed = measure_overhead()
        out.print(f"sandbox overhead: {boxed - bare:.1f} ms per run (bare {bare:.1f} ms, sandboxed {boxed:.1f} ms)")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        sys.exit(130)


if __name__ == "__main__":
    main()
