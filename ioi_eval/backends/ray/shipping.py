"""Data moves once: blobs go into the object store once per run, and land on each node once.

The driver keeps one object per blob content (:class:`ObjectShelf`: ``ray.put`` on first need, then the same ref
for every actor). A node keeps blobs by content in one folder shared by the actors on it (:class:`NodeBlobs`), so
a package's tests, a checker or a compiled submission are fetched from the object store once per node, whichever
actor asks first; the others link them from the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from ...cache import cache_root


class ObjectShelf:
    """Driver side: each blob's content put into the object store once (name -> ObjectRef)."""

    def __init__(self, ray: Any) -> None:
        self._ray = ray
        self._refs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.bytes_put = 0  # what this run put into the object store (the capacity model's figure)

    def ref(self, name: str, data: bytes) -> Any:
        """The object holding blob ``name`` (its ``data``), put on first use."""
        with self._lock:
            ref = self._refs.get(name)
            if ref is None:
                ref = self._refs[name] = self._ray.put(data)
                self.bytes_put += len(data)
            return ref


class NodeBlobs:
    """Node side: blobs by content in ``$IOI_EVAL_RAY_BLOBS/<node id>/`` (default ``<cache>/ray-blobs``; written
    aside, renamed into place). A cache: it may be removed whenever no judge runs on the node."""

    def __init__(self, node_id: str, root: Path | None = None) -> None:
        base = root or Path(os.environ.get("IOI_EVAL_RAY_BLOBS") or cache_root() / "ray-blobs")
        self.root = base / node_id
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path | None:
        """The node's copy of blob ``name``, or None."""
        p = self.root / os.path.basename(name)
        return p if p.is_file() else None

    def lacks(self, names: list[str]) -> list[str]:
        """The names of ``names`` this node does not hold."""
        return [n for n in names if self.path(n) is None]

    def add(self, name: str, data: bytes) -> Path:
        """Store ``data`` as blob ``name`` after checking it is that content (the name is its sha256)."""
        digest = os.path.basename(name).partition(".")[0]
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError(f"blob {name}: content does not match its name")
        dst = self.root / os.path.basename(name)
        if dst.is_file():
            return dst
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, dst)  # another actor storing the same content wins the same file
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        return dst
