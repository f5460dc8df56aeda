"""The ``ioi-eval`` application: mounts each command group's module."""

from __future__ import annotations

import sys

import typer

from . import ci, doctor, export, judge, leaderboard, problems, rewards, run, sandbox
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
app.command("doctor")(doctor.doctor)
app.command("serve-rewards")(rewards.serve_rewards)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        sys.exit(130)
