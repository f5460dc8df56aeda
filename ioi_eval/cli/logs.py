"""Logging and verbosity of the command line: ``-v``/``-q`` set the level of the ``ioi_eval`` loggers.

Every module of ``ioi_eval`` logs through ``logging.getLogger(__name__)``; the command line configures one
handler on the ``ioi_eval`` logger: rich's on a terminal, a plain timestamped line otherwise (a Slurm log, a
CI job), always on stderr so that ``--json`` output on stdout stays clean.

Verbosity: ``-q`` (quiet: warnings and errors only, no progress), the default (progress and notes), ``-v``
(info: what each step does), ``-vv`` (debug). ``$IOI_EVAL_LOG_LEVEL`` (a level name) sets the level when no flag
is given, e.g. for a batch script.
"""

from __future__ import annotations

import logging
import os
import sys

#: The logger every ``ioi_eval`` module's logger hangs under.
ROOT = "ioi_eval"
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_state = {"verbosity": 0}


def verbosity() -> int:
    """-1 quiet, 0 default, 1 info, 2 and more debug (as the last :func:`setup` set it)."""
    return _state["verbosity"]


def quiet() -> bool:
    """True when ``-q`` was given: no progress, no notes; warnings and errors only."""
    return _state["verbosity"] < 0


def level_for(verbose: int, quiet: int) -> int:
    """The ``logging`` level of ``-v`` given ``verbose`` times and ``-q`` given ``quiet`` times."""
    n = verbose - quiet
    if n >= 2:
        return logging.DEBUG
    if n == 1:
        return logging.INFO
    if n == 0:
        return logging.WARNING
    return logging.ERROR


def setup(verbose: int = 0, quiet: int = 0, stream=None) -> int:
    """Configure the ``ioi_eval`` logger once per process; returns the level set.

    Without ``-v``/``-q``, ``$IOI_EVAL_LOG_LEVEL`` (DEBUG, INFO, WARNING, ERROR) decides, else WARNING.
    """
    level = level_for(verbose, quiet)
    env = os.environ.get("IOI_EVAL_LOG_LEVEL", "").strip().upper()
    if not verbose and not quiet and env:
        named = logging.getLevelName(env)
        if not isinstance(named, int):
            from ..errors import IoiEvalError

            raise IoiEvalError(f"$IOI_EVAL_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {env!r}")
        level = named
    _state["verbosity"] = (verbose - quiet if verbose or quiet else
                           {logging.DEBUG: 2, logging.INFO: 1}.get(level, 0 if level <= logging.WARNING else -1))
    logger = logging.getLogger(ROOT)
    for h in list(logger.handlers):
        if getattr(h, "_ioi_eval", False):
            logger.removeHandler(h)
    handler = make_handler(stream)
    handler._ioi_eval = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    return level


class _Stderr(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is when a record comes (a test may swap it)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def make_handler(stream=None) -> logging.Handler:
    """Rich's handler when ``stream`` (default: stderr) is a terminal, else plain ``time LEVEL logger: message``
    lines."""
    if _is_terminal(stream or sys.stderr):
        from rich.console import Console
        from rich.logging import RichHandler

        # markup off: a message such as "pip install 'ioi-eval[vllm]'" keeps its brackets
        console = Console(file=stream) if stream is not None else Console(stderr=True)
        return RichHandler(console=console, show_path=False, markup=False, rich_tracebacks=False)
    handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    handler.setFormatter(logging.Formatter(PLAIN_FORMAT, datefmt="%Y-%m-%d %H:%M:%S"))
    return handler


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
