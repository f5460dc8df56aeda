"""The ``ioi-eval`` command line: one module per command group, mounted by :mod:`.main`."""

from .main import app, main

__all__ = ["app", "main"]
