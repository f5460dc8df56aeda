"""A Box without a sandbox, for unit tests of judge logic (httpx ``MockTransport`` style).

:class:`FakeBox` is a real implementation of :class:`~ioi_eval.backends.base.Box`: it stores files
by content in memory, names scratch folders and answers ``execute`` by calling the test's handler
once per job. A handler returns the job's :class:`JobResult` and may write what the job's
processes would have written (:meth:`FakeBox.write`), e.g. the program a compile produces or a
contestant's output. Nothing is ever run.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ioi_box.protocol import (
    PROTOCOL_VERSION,
    Batch,
    BatchResult,
    BoxInfo,
    CompareJob,
    CompareResult,
    JobResult,
    ProcResult,
    ProcStatus,
    RunJob,
)

Handler = Callable[["RunJob | CompareJob", "FakeBox"], JobResult]

FAKE_GXX = "/usr/bin/fake-g++"


class FakeBox:
    """An in-memory :class:`~ioi_eval.backends.base.Box` whose jobs are answered by ``handler``."""

    host_root: Path | None = None

    def __init__(self, handler: Handler, workers: int = 1) -> None:
        self.handler = handler
        self.workers = workers
        self.isolation_note = "fake box: nothing runs"
        # A shipped precompiled header and a named compiler: the compiler never touches this host's g++.
        self.info = BoxInfo(protocol=PROTOCOL_VERSION, workers=workers, isolation="fake",
                            isolation_note=self.isolation_note, tools={"cpp": "fake g++ 1.0", "python": "fake 3"},
                            compilers={"cpp": FAKE_GXX}, pch_include="/fake/pch")
        self.files: dict[str, bytes] = {}
        self.jobs: list[RunJob | CompareJob] = []  # every job executed, in order
        self.closed = False
        self._ids = itertools.count()
        self._lock = threading.Lock()

    # -- files ----------------------------------------------------------------------------------
    def put_bytes(self, data: bytes, executable: bool = False) -> str:
        path = f"blobs/{hashlib.sha256(data).hexdigest()}" + (".x" if executable else "")
        with self._lock:
            self.files[path] = bytes(data)
        return path

    def put_file(self, src: Path, executable: bool = False) -> str:
        return self.put_bytes(src.read_bytes(), executable)

    def promote(self, box_path: str, executable: bool = False) -> str:
        return self.put_bytes(self.read_bytes(box_path), executable)

    def new_dir(self) -> str:
        return f"work/{next(self._ids)}"

    def read_bytes(self, box_path: str, limit: int | None = None) -> bytes:
        with self._lock:
            if box_path not in self.files:
                raise FileNotFoundError(box_path)
            data = self.files[box_path]
        return data if limit is None else data[:limit]

    def remove(self, box_paths: Iterable[str]) -> None:
        with self._lock:
            for bp in box_paths:
                for path in [p for p in self.files if p == bp or p.startswith(bp + "/")]:
                    del self.files[path]

    def write(self, box_path: str, data: bytes) -> None:
        """What a job's process wrote (for handlers)."""
        with self._lock:
            self.files[box_path] = data

    # -- jobs -----------------------------------------------------------------------------------
    def execute(self, batch: Batch) -> BatchResult:
        results = []
        for job in batch.jobs:
            with self._lock:
                self.jobs.append(job)
            results.append(self.handler(job, self))
        return BatchResult(results=results)

    def close(self) -> None:
        self.closed = True


class FakeBackend:
    """A :class:`~ioi_eval.backends.base.Backend` that opens one :class:`FakeBox` per ``open``."""

    name = "fake"

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.boxes: list[FakeBox] = []

    def open(self, workers: int | None = None) -> FakeBox:
        box = FakeBox(self.handler, workers or 1)
        self.boxes.append(box)
        return box


# -- helpers for handlers -----------------------------------------------------------------------

def proc(status: ProcStatus = ProcStatus.OK, **fields: object) -> JobResult:
    """A run job's result with one process that ended with ``status``."""
    return JobResult(procs=[ProcResult(status=status, **fields)])  # type: ignore[arg-type]


def compared(score: float, message: str = "") -> JobResult:
    """A comparison's result."""
    return JobResult(compare=CompareResult(score=score, message=message))


def is_compile(job: RunJob | CompareJob) -> bool:
    """Whether ``job`` is a compile (its command starts the box's compiler)."""
    return isinstance(job, RunJob) and job.procs[0].argv[0] == FAKE_GXX
