"""The sha256 of host files, remembered across processes.

Every judge process stores a package's test files in its box by content, which needs their sha256:
54 MB of tests cost ~0.1 s to hash, on every ``ioi-eval judge``. A digest is therefore remembered in
the cache (``<cache>/digests/``, one small file per entry) under the file's identity: its absolute
path, device, inode, size and modification time (ns). A file changed since gets a new key, so a
stale digest is never used (short of a same-size rewrite in place whose mtime is then set back by
hand to the old nanosecond, the one change git's index misses too):

- a file is only remembered when it did not change while it was hashed, and when its modification
  time is at least :data:`SETTLED_S` in the past. File systems take timestamps from a coarse clock
  (milliseconds), so a file rewritten with the same size right after it was hashed could keep its
  mtime ("racy" entries, as git calls them); one settled that long cannot be rewritten without a
  new mtime.
- a file that is not a regular file (a FIFO, a device) is hashed every time and never remembered,
  and so is a small one (below :data:`SMALL_BYTES`): hashing it costs less than the lookup.

Entries are written aside and renamed into place, so concurrent processes never read half of one;
an unreadable or malformed entry is ignored and hashed afresh.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import time
from pathlib import Path

from .cache import cache_root

SETTLED_S = 2.0  # an mtime this old cannot be reused by a later write (coarse fs timestamps)
SMALL_BYTES = 256 << 10  # hashed in ~0.4 ms; a lookup costs ~0.05 ms
_HEX = frozenset("0123456789abcdef")


def sha256_file(path: Path) -> str:
    """The sha256 of a file's content (hex), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


class FileDigests:
    """sha256 of host files, remembered on disk by (absolute path, device, inode, size, mtime_ns)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else cache_root() / "digests"

    def digest(self, path: Path) -> str:
        """The sha256 (hex) of ``path``'s content (a symlink's target), from the cache when still valid."""
        where = os.path.abspath(path)
        st = os.stat(where)  # the target's identity: a symlink is keyed by what it points at now
        if not stat.S_ISREG(st.st_mode) or st.st_size < SMALL_BYTES:
            return sha256_file(Path(where))
        ident = _identity(st)
        key = hashlib.sha256(f"{where}\0{ident}".encode()).hexdigest()
        entry = self.root / key[:2] / key[2:]
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_CLOEXEC)
            try:
                known = os.read(fd, 128).decode("ascii", "replace")
            finally:
                os.close(fd)
        except OSError:
            known = ""
        if len(known) == 64 and set(known) <= _HEX:
            return known
        digest = sha256_file(Path(where))
        after = os.stat(where)
        settled = after.st_mtime_ns <= time.time_ns() - int(SETTLED_S * 1e9)
        if _identity(after) == ident and settled:
            self._remember(entry, digest)
        return digest

    def _remember(self, entry: Path, digest: str) -> None:
        """Write an entry atomically; a cache that cannot be written only costs the next hash."""
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(digest)
                os.replace(tmp, entry)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError:
            pass
