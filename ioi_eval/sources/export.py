"""``ioi-eval problems export``: write a source's problems as CMS-layout package folders."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import IoiEvalError
from . import load_problem_set


def export_source(spec: str, dest: Path, force: bool = False) -> list[Path]:
    """Copy every package of ``spec`` to ``dest/<code>``; returns the folders written.

    Each package is loaded first, so only packages our loader accepts are written. An existing
    ``dest/<code>`` is an error unless ``force``. Symlinked tests are copied as files.
    """
    written: list[Path] = []
    for problem in load_problem_set(spec):
        target = dest / problem.code
        if target.exists():
            if not force:
                raise IoiEvalError(f"{target}: already exists (use --force to replace it)")
            shutil.rmtree(target)
        try:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copytree(problem.root, target, symlinks=False)
        except OSError as exc:
            raise IoiEvalError(f"{target}: cannot write the package: {exc}") from None
        written.append(target)
    return written
