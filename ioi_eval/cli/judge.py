"""``ioi-eval judge``: judge one solution of one package."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    BackendOpt,
    Language,
    ProfileOpt,
    RayAddressOpt,
    RayBoxOpt,
    WorkersOpt,
    backend_options,
    err,
    out,
    reported_errors,
)


def judge(
    problem: Annotated[str, typer.Option(
        "--problem", "-p", help="one problem: any --problems spec holding one (a package folder or .zip, kattis:, "
                                "polygon:, hf:, a Kattis or Polygon folder)")],
    solution: Annotated[Path, typer.Option("--solution", "-s", help="source file (or outputs folder/.zip)")],
    language: Annotated[Language | None, typer.Option("--language", "-l", help="default: from the suffix")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object on stdout")] = False,
    backend: BackendOpt = "local",
    workers: WorkersOpt = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="do not use the compile cache")] = False,
    judge_profile: ProfileOpt = "cms",
    ray_address: RayAddressOpt = None,
    ray_box: RayBoxOpt = "local",
) -> None:
    """Judge one solution. Exit 0 when judged (whatever the verdicts), 1 on a judge error (SE)."""
    from ..judge.judge import Judge, ran_tests
    from ..judge.results import TestResult, Verdict
    from ..judge.submission import Submission
    from ..judge.task_types import TASK_TYPES
    from ..sources import load_one_problem
    from .progress import progress_display

    with reported_errors():
        prob = load_one_problem(problem)
        takes_code = TASK_TYPES[prob.task_type].takes_code
        sub = Submission.from_path(solution, takes_code, language.value if language else None)
        with (Judge(backend=backend, workers=workers, use_cache=not no_cache, profile=judge_profile,
                    **backend_options(backend, ray_address, ray_box)) as j,
              progress_display(err) as display):
            tests = display.task("tests", total=len(prob.test_order()), failed_label="judge errors")

            def advance(r: TestResult) -> None:
                tests.advance(failed=r.verdict == Verdict.SE)

            report = j.judge(prob, sub, on_test=advance if j.streams_tests else None)
            if not j.streams_tests:  # judged whole on a Ray node: its tests come back with the report
                for r in ran_tests(report):
                    advance(r)
            tests.advance(max(0, len(prob.test_order()) - tests.done), skipped=True)  # skipped or not compiled
    if as_json:
        sys.stdout.write(report.model_dump_json() + "\n")
    else:
        from .render import render_report

        render_report(report, out)
    if report.has_system_error:
        bad = report.system_errors()
        from rich.markup import escape

        err.print(f"[bold red]judge error (SE) on {len(bad)} test(s)[/bold red]: {escape(bad[0].name)}: "
                  f"{escape(bad[0].message)}", soft_wrap=True)
        raise typer.Exit(1)
