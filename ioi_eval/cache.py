"""The on-disk cache: where it lives, and how an entry is written so that readers never see half of one.

Compile products, imported packages, extracted archives and sandbox build inputs all live under one root
(``$IOI_EVAL_CACHE``, default ``~/.cache/ioi-eval``). Entries are immutable folders keyed by content; each is
written aside and renamed into place, so a concurrent writer of the same entry (another thread, process or
harness) costs duplicate work, never a torn entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def cache_root() -> Path:
    """``$IOI_EVAL_CACHE`` or ``~/.cache/ioi-eval``."""
    return Path(os.environ.get("IOI_EVAL_CACHE", Path.home() / ".cache" / "ioi-eval"))


@contextmanager
def held_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` locked (``flock``, exclusive) for the block, waiting for another holder first: one builder of
    an entry that is costly to make (the others then find it made). The kernel releases it if the holder dies."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


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


#: A file whose modification time is this old cannot be rewritten without a new one (coarse fs timestamps).
SETTLED_S = 2.0


def _identity(path: Path) -> list:
    st = os.stat(path)
    return [os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns]


def remembered(kind: str, files: list[Path], compute: Callable[[], Any], root: Path | None = None) -> Any:
    """``compute()`` (a JSON value) for what ``files`` are now, remembered in ``<cache>/<kind>/`` across processes.

    For facts that follow from files alone, such as a compiler's ``--version`` line, which would otherwise cost every
    judge process a subprocess. The entry is keyed by each file's absolute path, device, inode, size and
    modification time (ns), so a replaced or rewritten file gets a fresh answer; nothing is remembered for a file
    modified in the last :data:`SETTLED_S` seconds, whose rewrite could keep its timestamp. A missing, unreadable or
    malformed entry, or a cache that cannot be written, only costs the computation.
    """
    try:
        idents = [_identity(f) for f in files]
    except OSError:
        return compute()
    key = hashlib.sha256(json.dumps([kind, idents]).encode()).hexdigest()
    entry = (root if root is not None else cache_root()) / kind / key
    try:
        return json.loads(entry.read_text())["value"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    value = compute()
    settled = time.time_ns() - int(SETTLED_S * 1e9)
    if all(i[4] <= settled for i in idents):
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "w") as f:
                    json.dump({"files": idents, "value": value}, f)
                os.replace(tmp, entry)  # readers never see half an entry
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass
    return value
