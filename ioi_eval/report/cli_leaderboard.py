"""The ``ioi-eval leaderboard`` command: read run folders, print a format, optionally write the site."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from ..errors import IoiEvalError
from .bootstrap import RESAMPLES
from .build import build_leaderboard
from .formats import FORMATS, RENDERERS, print_table


def leaderboard_command(run_dirs: list[Path], fmt: str, html: Path | None, contests: Path | None,
                        confidence: float = 0.95, resamples: int = RESAMPLES, seed: int = 0,
                        out: Console | None = None, err: Console | None = None) -> None:
    """Print the leaderboard of ``run_dirs`` in ``fmt``; with ``html``, also write the site there."""
    out, err = out or Console(), err or Console(stderr=True)
    if fmt not in FORMATS:
        raise IoiEvalError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    lb = build_leaderboard(run_dirs, contests, confidence=confidence, resamples=resamples, seed=seed)
    for e in lb.entries if fmt in ("json", "csv") else []:  # table and md list the notes themselves
        for note in e.notes:
            err.print(f"[yellow]{e.label}: {note}[/]", highlight=False)
    if fmt == "table":
        print_table(lb, out)
    else:
        sys.stdout.write(RENDERERS[fmt](lb))
    if html is not None:
        from .html import write_site

        index = write_site(lb, html)
        err.print(f"site written: {index}", highlight=False)
