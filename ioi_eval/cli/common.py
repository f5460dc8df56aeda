"""What every command shares: the consoles, the options several commands take, and one mapping of errors to exits.

A command never prints a traceback for a failure it can explain: :func:`reported_errors` turns an
:class:`~ioi_eval.errors.IoiEvalError`, a SQLite error or an OS error (a full disk, a missing file) into one
``error:`` line on stderr and exit status 2.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn

import typer

from ..backends import BACKENDS
from ..errors import IoiEvalError
from ..judge.languages import LANGUAGES
from ..judge.profile import PROFILES

if TYPE_CHECKING:
    from rich.console import Console


class _LazyConsole:
    """A rich ``Console`` made on first use: a command that prints nothing through it (``judge --json``) never
    imports rich. Every attribute is the console's own."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the console writes to a terminal, answered without importing rich where the stream plainly is
        not one (a pipe, a file) and no environment variable asks rich to treat it as one."""
        if self._console is None:
            stream = sys.stderr if self._options.get("stderr") else sys.stdout
            forced = any(os.environ.get(v) for v in ("FORCE_COLOR", "FORCE_TERMINAL", "TTY_COMPATIBLE",
                                                      "TTY_INTERACTIVE", "JUPYTER_COLUMNS"))
            try:
                tty = stream.isatty()
            except (AttributeError, ValueError):
                tty = False
            if not tty and not forced:
                return False
        return self.__getattr__("is_terminal")

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


out: Console = _LazyConsole()  # type: ignore[assignment]
err: Console = _LazyConsole(stderr=True)  # type: ignore[assignment]

#: Submission languages, as the language registry names them.
Language = Enum("Language", {name: name for name in LANGUAGES}, type=str)  # type: ignore[misc]

SourceArg = Annotated[str, typer.Argument(help="a problem source: a package, a .zip, a folder of packages, "
                                                "or a source spec such as hf:open-r1/ioi")]


def one_of(choices) -> str:
    """``one of: a, b, c``: the choices of an option, in its help (a short metavar keeps narrow help readable)."""
    return "one of: " + ", ".join(str(getattr(c, "value", c)) for c in choices)


#: Options with fixed choices are ``Literal`` types (the value stays a plain string; a bad one is a usage error
#: naming the choices); their help lists the choices, their metavar is a short name.
BackendName = Literal[tuple(BACKENDS)]  # type: ignore[valid-type]
ProfileName = Literal[tuple(PROFILES)]  # type: ignore[valid-type]
BackendOpt = Annotated[BackendName, typer.Option("--backend", metavar="<backend>",
                                                 help=f"where to run untrusted code, {one_of(BACKENDS)}")]
WorkersOpt = Annotated[int | None, typer.Option("--workers", "-j", help="parallel tests (default: CPU count)")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", envvar="RAY_ADDRESS",
    help="--backend ray: the cluster (auto, host:port, ray://...; default $RAY_ADDRESS, else a local one)")]
RayBoxOpt = Annotated[Literal["local", "docker", "e2b"], typer.Option(
    "--ray-box", metavar="<box>", envvar="IOI_EVAL_RAY_BOX",
    help="--backend ray: each actor's box, one of: local, docker, e2b (E2B sandboxes under one cluster-wide "
         "limiter)")]
ProfileOpt = Annotated[ProfileName, typer.Option(
    "--judge-profile", metavar="<profile>", help=f"{one_of(PROFILES)} (cms: strict; piston, codeforces: open-r1's "
                                                 "judges; docs/sources.md)")]


def backend_options(backend: str, ray_address: str | None = None, ray_box: str = "local") -> dict[str, object]:
    """The options of the chosen backend given on the command line (only the Ray backend takes any)."""
    return {"address": ray_address, "box": ray_box} if backend == "ray" else {}


KEPT = "everything committed so far is kept; fix it and re-run"


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    from rich.markup import escape

    err.print(f"[bold red]error:[/bold red] {escape(message)}", soft_wrap=True)  # one line, however long
    raise typer.Exit(code)


def _store_errors() -> tuple[type[BaseException], ...]:
    """OSError, and SQLite's errors once SQLite is in use (a command that never opens a run store never imports it)."""
    sqlite3 = sys.modules.get("sqlite3")
    return (OSError, sqlite3.Error) if sqlite3 is not None else (OSError,)


def error_message(exc: BaseException) -> str | None:
    """The one-line message of an error a command reports instead of a traceback (None: not one of those)."""
    if isinstance(exc, IoiEvalError):
        return str(exc)
    if isinstance(exc, _store_errors()):  # e.g. a full disk: what was committed before is kept
        return f"run store or file error: {exc} ({KEPT})"
    return None


@contextmanager
def reported_errors(code: int = 2) -> Iterator[None]:
    """Turn the errors :func:`error_message` knows into ``error: ...`` and exit ``code``."""
    try:
        yield
    except (IoiEvalError, *_store_errors()) as exc:
        message = error_message(exc)
        assert message is not None
        fail(message, code)
