"""The ``ioi-eval`` application: mounts each command group's module."""

from __future__ import annotations

import sys
import warnings
from typing import Annotated, Any

import typer
import typer.main

from ..errors import PackageWarning
from .common import err, fail
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


def _show_version(value: bool) -> None:
    if value:
        from .. import __version__

        typer.echo(f"ioi-eval {__version__}")
        raise typer.Exit()


@app.callback()  # a root callback also makes typer build the (lazy) group
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
    from rich.markup import escape

    if issubclass(category, PackageWarning):
        err.print(f"[yellow]warning:[/yellow] {escape(str(message))}", soft_wrap=True)
    else:
        _default_show(message, category, filename, lineno, file, line)


_default_show = warnings.showwarning


def command(*names: str) -> Any:
    """The application as a click command, with the commands ``names`` built ahead (the judge server builds it
    once, so that each of its forks only parses its arguments)."""
    group = typer.main.get_command(app)
    for cmd in [group, *(group.commands[name] for name in names)]:  # the lazy group builds a command when looked up
        for param in cmd.params:
            warm = getattr(param, "get_runtime_param", None)  # typer's coercion of a parameter, built on first use
            if warm is not None:
                warm()
    return group


def main(prepared: Any = None) -> None:
    """Console-script entry point (``prepared``: the application as :func:`command` built it)."""
    warnings.showwarning = _show_warning
    try:
        (prepared if prepared is not None else app)()
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        sys.exit(130)
