"""The ``ioi-eval`` command line: one module per command group, mounted by :mod:`.main`.

This package imports nothing until it is used: :func:`main` first lets a running judge server take a ``judge``
command (:mod:`.judge_server`), and only then imports the application.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the caller's side milliseconds
    from typing import Any

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    from .judge_server import serve_if_running

    serve_if_running(sys.argv)
    from .main import main as run

    run()


def __getattr__(name: str) -> Any:
    if name == "app":
        from .main import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
