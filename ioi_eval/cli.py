"""The ``ioi-eval`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from .errors import IoiEvalError
from .export.cli import export_app
from .gate.cli import ci as ci_command
from .run.options import BackendOpt, Language, ProfileOpt, WorkersOpt, evaluate_kwargs, with_run_options
from .sandbox_cli import sandbox_app

app = typer.Typer(help="Judge code models on IOI-style problems exactly as the official CMS judge would.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
problems_app = typer.Typer(help="Inspect and validate problem packages.", no_args_is_help=True)
app.add_typer(problems_app, name="problems")
app.add_typer(export_app, name="export")
app.command("ci")(ci_command)
app.add_typer(sandbox_app, name="sandbox")

out = Console()
err = Console(stderr=True)


SourceArg = Annotated[str, typer.Argument(help="a problem source: a package, a .zip, a folder of packages, "
                                                "or a source spec such as hf:open-r1/ioi")]


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
    judge_profile: ProfileOpt = "cms",
) -> None:
    """Judge one solution. Exit 0 when judged (whatever the verdicts), 1 on a judge error (SE)."""
    from .judge.judge import Judge
    from .judge.submission import Submission
    from .problem.loader import load_problem
    from .render import render_report

    try:
        prob = load_problem(problem)
        sub = Submission.from_path(solution, prob.task_type, language.value if language else None)
        with Judge(backend=backend, workers=workers, use_cache=not no_cache, profile=judge_profile) as j:
            report = j.judge(prob, sub)
    except IoiEvalError as exc:
        _fail(str(exc))
        return
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
    else:
        render_report(report, out)
    if report.has_system_error:
        bad = report.system_errors()
        err.print(f"[bold red]judge error (SE) on {len(bad)} test(s)[/bold red]: {bad[0].name}: {bad[0].message}")
        raise typer.Exit(1)


@problems_app.command("validate")
def validate(
    path: SourceArg,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON summary on stdout")] = False,
    judge_profile: ProfileOpt = "cms",
) -> None:
    """Judge every reference solution and check it behaves as its category says."""
    import json

    from rich.table import Table

    from .judge.judge import Judge
    from .judge.validate import SolutionCheck, validate_problem
    from .problem.loader import load_problem
    from .sources import resolve_source

    summary = []
    all_ok = True
    try:
        roots = resolve_source(path).packages()
        with Judge(backend=backend, workers=workers, profile=judge_profile) as j:
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
def list_problems(source: SourceArg) -> None:
    """List the problems a source holds."""
    from rich.table import Table

    from .sources import load_problem_set

    table = Table()
    for col in ("code", "name", "type", "TL", "ML", "subtasks", "tests", "points"):
        table.add_column(col)
    try:
        for p in load_problem_set(source):
            table.add_row(p.code, p.name, p.task_type, f"{p.time_limit:g}s", f"{p.memory_limit >> 20} MiB",
                          str(len(p.subtasks)), str(len(p.tests)), f"{p.max_score:g}")
    except IoiEvalError as exc:
        _fail(str(exc))
    out.print(table)


@problems_app.command("export")
def export_problems(
    source: SourceArg,
    to: Annotated[Path, typer.Option("--to", help="folder to write CMS-layout packages into")],
    force: Annotated[bool, typer.Option("--force", help="replace packages already in the folder")] = False,
) -> None:
    """Write a source's problems as CMS-layout packages (the IOI 2024 layout), one folder each."""
    from .sources.export import export_source

    try:
        written = export_source(source, to, force=force)
    except IoiEvalError as exc:
        _fail(str(exc))
        return
    for path in written:
        out.print(str(path))


@app.command()
@with_run_options
def run(
    run_options: dict,
    as_json: Annotated[bool, typer.Option("--json", help="print the run's scores as JSON")] = False,
) -> None:
    """Generate solutions, extract the code, judge it and score the set; re-run to resume."""
    import sqlite3

    from .run.cli_run import run_command

    try:
        code = run_command(as_json=as_json, out=out, err=err, **evaluate_kwargs(run_options))
    except IoiEvalError as exc:
        _fail(str(exc))
        return
    except (sqlite3.Error, OSError) as exc:  # e.g. a full disk: what was committed before is kept
        _fail(f"run store or file error: {exc} (everything committed so far is kept; fix it and re-run)")
        return
    raise typer.Exit(code)


@app.command()
def leaderboard(
    run_dirs: Annotated[list[Path], typer.Argument(help="run folders (runs/<id>) made by `ioi-eval run`")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json, csv or md")] = "table",
    html: Annotated[Path | None, typer.Option("--html", help="also write a static site into this folder")] = None,
    contests: Annotated[Path | None, typer.Option("--contests", help="medal cutoffs JSON (default: bundled)")] = None,
    confidence: Annotated[float, typer.Option("--confidence", help="level of the bootstrap intervals")] = 0.95,
    resamples: Annotated[int, typer.Option("--resamples", help="bootstrap resamples")] = 4000,
    seed: Annotated[int, typer.Option("--seed", help="bootstrap RNG seed")] = 0,
) -> None:
    """Rank runs: IOI total, per-problem scores, oracle, mean single submission (with a CI), medal."""
    from .report.cli_leaderboard import leaderboard_command

    try:
        leaderboard_command(run_dirs, fmt, html, contests, confidence, resamples, seed, out=out, err=err)
    except IoiEvalError as exc:
        _fail(str(exc))


@app.command()
def doctor(
    overhead: Annotated[bool, typer.Option("--overhead", help="also measure the sandbox overhead")] = False,
    adversarial: Annotated[bool, typer.Option(
        "--adversarial", help="also judge the adversarial suite (hostile programs) and check the host held; "
                              "exit 1 if any case failed")] = False,
    backend: BackendOpt = "local",
) -> None:
    """Show which isolation and accounting mechanisms this machine gives, and how precise they are."""
    from rich.table import Table

    from .doctor import diagnose, measure_overhead

    table = Table(title="ioi-eval doctor")
    for col in ("check", "", "detail"):
        table.add_column(col)
    findings = diagnose()
    if backend == "docker":
        from .doctor import docker_findings

        findings += docker_findings()
    for f in findings:
        table.add_row(f.what, "[green]ok[/green]" if f.ok else "[yellow]degraded[/yellow]", f.detail)
    out.print(table)
    if overhead:
        bare, boxed = measure_overhead()
        out.print(f"sandbox overhead: {boxed - bare:.1f} ms per run (bare {bare:.1f} ms, sandboxed {boxed:.1f} ms)")
    if adversarial:
        from .adversarial import CaseResult, results_table, run_suite, summary_line
        from .adversarial.suite import cases_from_env

        def progress(r: CaseResult) -> None:
            status = "[green]held[/green]" if r.held else "[red]FAILED[/red]"
            err.print(f"  {r.name}: {status} ({r.verdict.value if r.verdict else '-'}, {r.seconds:.1f} s)")

        notes: list[str] = []
        try:
            cases = cases_from_env()  # all, or $IOI_EVAL_ADVERSARIAL_CASES
            err.print(f"adversarial suite: {len(cases)} cases on the {backend} backend")
            results = run_suite(backend, cases=cases, on_result=progress, notes=notes)
        except (IoiEvalError, ValueError) as exc:
            _fail(str(exc))
            return
        out.print(results_table(results, title=f"adversarial suite ({backend} backend)"))
        for note in notes:
            out.print(f"[yellow]note:[/yellow] {note}")
        out.print(summary_line(results))
        if not all(r.held for r in results):
            raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        sys.exit(130)


if __name__ == "__main__":
    main()
