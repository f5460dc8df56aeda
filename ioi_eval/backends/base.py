"""The backend protocol: where boxes come from.

A backend opens :class:`Box` objects; a box stores files by content and executes job batches
(:mod:`ioi_box.protocol`). The judge only ever talks to this protocol, so judging in-process,
in a container or in a cloud VM is the same code path.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

from ioi_box.protocol import Batch, BatchResult, BoxInfo


class Box(Protocol):
    """One isolation host running the in-box executor.

    ``info`` is what the box says about itself (the hello reply of :mod:`ioi_box.protocol`): its
    isolation, and the toolchain the compiler must use (versions for cache keys, compiler paths,
    a precompiled header it ships). ``workers`` counts the job slots of the whole box (a remote box
    may span several executors, each describing itself with its own ``info.workers``).
    """

    workers: int
    isolation_note: str

    @property
    def info(self) -> BoxInfo:
        """What the box says about itself."""
        ...

    @property
    def host_root(self) -> Path | None:
        """The box's work root as a folder of this machine, where the box runs in this process
        (the local backend); None for a box elsewhere (a container, a VM)."""
        ...

    def put_file(self, src: Path, executable: bool = False) -> str:
        """Store a host file by content (a box in this process: by identity, unhashed); returns its box path."""
        ...

    def put_bytes(self, data: bytes, executable: bool = False) -> str:
        """Store bytes by content; returns their box path."""
        ...

    def promote(self, box_path: str, executable: bool = False) -> str:
        """Move a job's product into the blob store; returns its blob path."""
        ...

    def new_dir(self) -> str:
        """A fresh scratch folder."""
        ...

    def read_bytes(self, box_path: str, limit: int | None = None) -> bytes:
        """Read (the head of) a file of the box."""
        ...

    def remove(self, box_paths: Iterable[str]) -> None:
        """Delete scratch folders or files."""
        ...

    def execute(self, batch: Batch) -> BatchResult:
        """Run a batch of jobs."""
        ...

    def close(self) -> None:
        """Release the box and everything in it."""
        ...


class Backend(Protocol):
    """A source of boxes."""

    name: str

    def open(self, workers: int | None = None) -> Box:
        """Start a box with ``workers`` parallel job slots."""
        ...
