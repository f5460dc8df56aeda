"""The on-disk cache: where it lives, and how an entry is written so that readers never see half of one.

Compile products, imported packages, extracted archives and sandbox build inputs all live under one root
(``$IOI_EVAL_CACHE``, default ``~/.cache/ioi-eval``). Entries are immutable folders keyed by content; each is
written aside and renamed into place, so a concurrent writer of the same entry (another thread, process or
harness) costs duplicate work, never a torn entry.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def cache_root() -> Path:
    """``$IOI_EVAL_CACHE`` or ``~/.cache/ioi-eval``."""
    return Path(os.environ.get("IOI_EVAL_CACHE", Path.home() / ".cache" / "ioi-eval"))


@contextmanager
def atomic_dir(dest: Path, prefix: str = ".tmp-") -> Iterator[Path]:
    """Yield a fresh folder beside ``dest``; when the block succeeds it is renamed to ``dest``.

    Where another writer got there first, its entry is kept (entries are keyed by content, so both are
    the same). Whatever happens, no half-written folder is left behind. OSError escapes when the folder
    cannot be made or renamed and ``dest`` does not exist either (a full or read-only disk).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=prefix))
    try:
        yield tmp
        try:
            tmp.rename(dest)
        except OSError:
            if not dest.exists():
                raise
    finally:  # gone once renamed; otherwise nothing half-written stays
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
