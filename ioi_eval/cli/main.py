"""The ``ioi-eval`` application: mounts each command group's module."""

from __future__ import annotations

import sys
import warnings

import typer
from rich.markup import escape

from ..errors import PackageWarning
from . import ci, doctor, export, judge, leaderboard, problems, rewards, run, sandbox, select
from .common import err

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
