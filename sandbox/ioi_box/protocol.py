"""The wire protocol between the host and the in-box executor.

Everything the host asks of a box (a local process tree, a Docker container, an E2B VM) is a
batch of jobs made of these records, and everything it gets back is a result record. They are
plain pydantic models so they serialise to JSON unchanged over any transport.

File references inside jobs are *box paths*: paths relative to the executor's work root, where
the host has placed them with :meth:`ioi_box.executor.Executor.put_file` (or found them
already cached by digest).
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

#: The most a wall limit is extended by run-queue wait, as a multiple of the limit: the native
#: launcher's ``kMaxWaitFactor`` (``ioi_box._native.MAX_WAIT_FACTOR``), restated here so that a host
#: without the native core can bound how long a job may take.
MAX_WAIT_FACTOR = 10.0


class Limits(BaseModel):
    """Resource limits of one sandboxed process (tree)."""

    model_config = ConfigDict(frozen=True)

    cpu_s: float = Field(0.0, description="CPU time (user+sys) of the whole tree; 0 = none")
    wall_s: float = Field(0.0, description="wall-clock backstop; with cpu_s set, extended by the run-queue "
                                           "wait of the job's trees (at most MAX_WAIT_FACTOR times it); 0 = none")
    memory_bytes: int = Field(0, description="memory of the whole tree; 0 = none")
    output_bytes: int = Field(0, description="cap on stdout and on each written file; 0 = none")
    processes: int = Field(64, description="max processes/threads in the tree")
    open_files: int = Field(256, description="RLIMIT_NOFILE")
    tmp_bytes: int = Field(64 << 20, description="size of the box's writable tmpfs")


class ProcStatus(str, Enum):
    """How a sandboxed process ended, before any task-specific interpretation."""

    OK = "OK"  # exited 0
    RE = "RE"  # non-zero exit code
    SG = "SG"  # killed by a signal (not by us for a limit)
    TLE_CPU = "TLE_CPU"  # CPU time limit
    TLE_WALL = "TLE_WALL"  # wall-clock backstop
    MLE = "MLE"  # memory limit (OOM kill or peak over the limit)
    OLE = "OLE"  # output / file size limit
    XX = "XX"  # sandbox error: the run could not be set up or measured


class ProcResult(BaseModel):
    """Outcome and measurements of one sandboxed process (tree)."""

    status: ProcStatus
    exit_code: int | None = None
    signal: int | None = None
    cpu_s: float = 0.0
    wall_s: float = 0.0
    wait_s: float = Field(0.0, description="run-queue wait of the tree: time runnable but not scheduled "
                                           "(a loaded machine), which does not count against the wall limit")
    memory_bytes: int = 0
    message: str = ""
    stdout: str = Field("", description="captured head of stdout, when the job asked for it")
    stderr: str = Field("", description="captured head of stderr, when the job asked for it")


class Proc(BaseModel):
    """One process of a run job.

    ``binds`` maps a path inside the box (absolute, e.g. ``/box/prog``) to a box path of a file
    or folder on the executor side; ``rw_binds`` likewise but writable (outputs, FIFOs).
    ``stdin``/``stdout``/``stderr`` are box paths on the executor side (None: /dev/null).
    """

    argv: list[str]
    binds: dict[str, str] = Field(default_factory=dict)
    rw_binds: dict[str, str] = Field(default_factory=dict)
    stdin: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    capture_stdout: int = Field(0, description="bytes of stdout to return in the result")
    capture_stderr: int = Field(0, description="bytes of stderr to return in the result")
    env: dict[str, str] = Field(default_factory=dict)
    limits: Limits = Field(default_factory=Limits)
    cwd: str = "/box"


class RunJob(BaseModel):
    """Run one or more processes concurrently (Batch: one; Communication: manager + users).

    ``fifos`` are created (box paths) before any process starts.
    ``outputs`` are files created empty before the run so processes may write them via rw_binds.
    """

    kind: Literal["run"] = "run"
    procs: list[Proc]
    fifos: list[str] = Field(default_factory=list)
    outputs: list[str] = Field(default_factory=list)


#: The in-process comparators (the native core's ``compare`` kinds, plus ``cf_lenient``); the only list of them.
Comparator = Literal["white_diff", "tokens", "floats", "floats_nocase", "yes_no", "unordered_lines", "diff_b",
                     "cf_lenient"]


class CompareJob(BaseModel):
    """Compare a contestant output with the expected one in-process (no program is spawned)."""

    kind: Literal["compare"] = "compare"
    comparator: Comparator = "white_diff"
    expected: str
    output: str
    abs_tol: float = 1e-6
    rel_tol: float = 1e-6


class CompareResult(BaseModel):
    """Outcome of a :class:`CompareJob`: a score in [0, 1] and a message."""

    score: float
    message: str = ""


Job = Annotated[RunJob | CompareJob, Field(discriminator="kind")]


class JobResult(BaseModel):
    """The result of one job: per-process results for a run, or a comparison."""

    procs: list[ProcResult] = Field(default_factory=list)
    compare: CompareResult | None = None
    error: str | None = Field(None, description="the job could not be executed at all (sandbox error)")
    note: str = Field("", description="what the harness did about the job for the report, e.g. a re-run")


class Batch(BaseModel):
    """A batch of independent jobs; the executor may run them in parallel."""

    jobs: list[Job]


class BatchResult(BaseModel):
    """Results in the order of the batch's jobs."""

    results: list[JobResult]


# -- the remote protocol: requests and replies between a host and ``python3 -m ioi_box.server`` ------
#
# A remote box (a container, a cloud VM) runs :mod:`ioi_box.server`, which serves one Executor over
# a byte stream. Every message is a frame (:mod:`ioi_box.wire`): a JSON header (a
# :class:`RequestFrame` or a :class:`Reply`) plus an optional binary payload (file contents).
# Requests carry an id; replies may come back in any order (the server runs requests concurrently).
#
# These models only travel over a stream (a box in this process never makes them): ``defer_build`` leaves their
# validators unbuilt until first use, which spares every local ``ioi-eval judge`` process building them at import.

PROTOCOL_VERSION = 1


class Hello(BaseModel):
    """First request: start the executor (``workers`` job slots, ``isolation`` as for ``detect``)."""

    model_config = ConfigDict(defer_build=True)

    op: Literal["hello"] = "hello"
    workers: int | None = None
    isolation: str | None = None


class BlobSpec(BaseModel):
    """One blob of a :class:`PutBlobs` payload: ``<sha256>`` or ``<sha256>.x`` (executable), its size."""

    model_config = ConfigDict(defer_build=True)

    name: str
    size: int


class PutBlobs(BaseModel):
    """Store blobs by content; the payload is their bytes, concatenated in order.

    With ``staged``, the payload is empty: each blob lies in that folder of the box, as a file
    named by its blob name, put there out of band (a cloud SDK's file API); it is moved in.
    """

    model_config = ConfigDict(defer_build=True)

    op: Literal["put"] = "put"
    blobs: list[BlobSpec]
    staged: str | None = None


class Promote(BaseModel):
    """Move a job's product into the blob store (reply: ``blob``)."""

    model_config = ConfigDict(defer_build=True)

    op: Literal["promote"] = "promote"
    path: str
    executable: bool = False


class ReadFile(BaseModel):
    """Read (the head of) a file of the box (reply payload: its bytes)."""

    model_config = ConfigDict(defer_build=True)

    op: Literal["read"] = "read"
    path: str
    limit: int | None = None


class RemovePaths(BaseModel):
    """Delete scratch folders or files."""

    model_config = ConfigDict(defer_build=True)

    op: Literal["remove"] = "remove"
    paths: list[str]


class Execute(BaseModel):
    """Run a batch; ``dirs`` are scratch folders (``work/<id>``) to create first."""

    model_config = ConfigDict(defer_build=True)

    op: Literal["execute"] = "execute"
    batch: Batch
    dirs: list[str] = Field(default_factory=list)


Request = Annotated[Hello | PutBlobs | Promote | ReadFile | RemovePaths | Execute, Field(discriminator="op")]


class RequestFrame(BaseModel):
    """A request and the id its reply will carry."""

    model_config = ConfigDict(defer_build=True)

    id: int
    request: Request


class BoxInfo(BaseModel):
    """What a remote box says about itself in reply to :class:`Hello`."""

    protocol: int
    workers: int
    isolation: str
    isolation_note: str
    cgroups: dict = Field(default_factory=dict)
    tools: dict[str, str] = Field(default_factory=dict, description="language -> toolchain version line")
    compilers: dict[str, str] = Field(default_factory=dict, description="language -> compiler path")
    pch_include: str | None = Field(None, description="a folder holding bits/stdc++.h.gch, visible to runs")


class Reply(BaseModel):
    """The answer to one request; ``error`` is set when the request failed inside the box."""

    model_config = ConfigDict(defer_build=True)

    id: int
    error: str | None = None
    info: BoxInfo | None = None
    blob: str | None = None
    result: BatchResult | None = None
