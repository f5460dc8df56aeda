"""The ``ioi-eval`` application: mounts each command group's module."""

from __future__ import annotations

import sys
import warnings
from typing import Annotated

import typer
from rich.markup import escape

from ..errors import PackageWarning
from . import ci, doctor, export, judge, leaderboard, problems, rewards, run, sandbox, select
from .common import err, fail

app = typer.Typer(help="Judge code models on IOI-style problems exactly as the official CMS judge would.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(problems.app, name="problems")
app.add_typer(export.app, name="export")
app.command("ci")(ci.ci)
app.add_typer(sandbox.app, name="sandbox")
app.command("judge")(judge.judge)
app.command("run")(run.run)
app.command("leaderboard")(leaderboard.leaderboard)
app.command("select")(select.select)
app.command("doctor")(doctor.doctor)
app.command("serve-rewards")(rewards.serve_rewards)


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"ioi-eval {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="more log detail: -v info, -vv debug "
                                         "(before the command: ioi-eval -v run ...)")] = 0,
    quiet: Annotated[int, typer.Option("--quiet", "-q", count=True, help="only warnings and errors: no progress, "
                                       "no notes")] = 0,
    version: Annotated[bool, typer.Option("--version", callback=_show_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """Judge code models on IOI-style problems exactly as the official CMS judge would."""
    from ..errors import IoiEvalError
    from .logs import setup

    try:
        setup(verbose, quiet)
    except IoiEvalError as exc:
        fail(str(exc))


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A package warning as one ``warning:`` line (no source location); others as Python shows them."""
    if issubclass(category, PackageWarning):
        err.print(f"[yellow]warning:[/yellow] {escape(str(message))}", soft_wrap=True)
    else:
        _default_show(message, category, filename, lineno, file, line)


_default_show = warnings.showwarning


def main() -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    try:
        app()
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        sys.exit(130)
