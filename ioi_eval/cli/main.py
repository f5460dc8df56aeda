"""The ``ioi-eval`` application: mounts each command group's module."""

from __future__ import annotations

import sys
import warnings

import typer

from ..errors import PackageWarning
from .common import err
from .lazy import lazy_group

#: Each command (a function) or command group (a Typer app) as ``"module:attribute"``, in the order ``--help``
#: lists them. A command's module is imported only when that command runs: ``ioi-eval judge`` pays for nothing else.
COMMANDS = {
    "ci": "ioi_eval.cli.ci:ci",
    "judge": "ioi_eval.cli.judge:judge",
    "run": "ioi_eval.cli.run:run",
    "leaderboard": "ioi_eval.cli.leaderboard:leaderboard",
    "select": "ioi_eval.cli.select:select",
    "doctor": "ioi_eval.cli.doctor:doctor",
    "serve-rewards": "ioi_eval.cli.rewards:serve_rewards",
    "problems": "ioi_eval.cli.problems:app",
    "export": "ioi_eval.cli.export:app",
    "sandbox": "ioi_eval.cli.sandbox:app",
}

app = typer.Typer(help="Judge code models on IOI-style problems exactly as the official CMS judge would.",
                  no_args_is_help=True, pretty_exceptions_enable=False, cls=lazy_group(COMMANDS))


@app.callback()
def _root() -> None:
    """Judge code models on IOI-style problems exactly as the official CMS judge would."""
    # A root callback makes typer build the group (the lazy group registers no command up front).


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A package warning as one ``warning:`` line (no source location); others as Python shows them."""
    from rich.markup import escape

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
