"""Boxes that live elsewhere (a container, a cloud VM), reached through the remote protocol.

The far end runs ``python3 -m ioi_box.server`` (:mod:`ioi_box.server`); this side speaks to it
through a :class:`Channel`: send a request (and a payload), get its reply (and a payload). A
backend only has to supply channels: a child process's pipes (:class:`ProcessChannel`), a Docker container's
attach socket (:mod:`.docker_stream`), or anything else that can carry frames.

:class:`ChannelPool` holds N channels (N containers or VMs) and replaces one that breaks;
:class:`RemoteBox` is a :class:`~ioi_eval.backends.base.Box` over a pool:

- files travel by content: ``put_file``/``put_bytes`` only hash and remember the content on the
  host; a blob is uploaded to a box the first time a job there needs it, and once per box;
- ``new_dir`` names a scratch folder; it is bound to a box (and created there) by the first job
  that uses it, and every later job, read or removal of it goes to that box;
- the jobs of a batch are spread over the boxes (least busy first);
- when a box dies or stops answering, it is replaced and its jobs in flight are retried once on a
  fresh box; if that fails too, those jobs come back as sandbox errors (``JobResult.error``, an SE
  verdict), never as a silent zero.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from ioi_box.protocol import (
    MAX_WAIT_FACTOR,
    PROTOCOL_VERSION,
    Batch,
    BatchResult,
    BoxInfo,
    CompareJob,
    Execute,
    Hello,
    JobResult,
    Promote,
    PutBlobs,
    ReadFile,
    RemovePaths,
    Reply,
    RequestFrame,
    RunJob,
)
from ioi_box.protocol import BlobSpec as _BlobSpec
from ioi_box.protocol import Request as _Request
from ioi_box.wire import WireError, read_frame, write_frame

from ..digests import FileDigests
from ..errors import BoxLostError, BoxRequestError, ChannelError, JudgeError

REQUEST_TIMEOUT_S = 300.0  # file requests; executes get their jobs' wall limits plus a margin
EXECUTE_MARGIN_S = 60.0
NO_WALL_LIMIT_S = 3600.0  # a job without a wall limit may take this long before its box counts as hung
UPLOAD_CHUNK = 64 << 20  # bytes of blobs per put request


class Channel(Protocol):
    """A connection to one running ``ioi_box.server``; ``call`` may be used from many threads."""

    name: str

    def call(self, request: _Request, payload: bytes = b"", timeout: float | None = None) -> tuple[Reply, bytes]:
        """Send a request and wait for its reply; raises :class:`ChannelError` if the channel broke."""
        ...

    def close(self) -> None:
        """Disconnect and release the box (stop the container, the VM...)."""
        ...


class StreamChannel:
    """A :class:`Channel` over a pair of byte streams; requests are multiplexed by id.

    A reader thread matches replies to waiting callers, so several jobs can be in flight on one
    box at once. When the stream ends or breaks, every waiting call raises :class:`ChannelError`.
    """

    def __init__(self, rfile: IO[bytes], wfile: IO[bytes], name: str) -> None:
        self.name = name
        self._rfile = rfile
        self._wfile = wfile
        self._ids = itertools.count(1)
        self._waiting: dict[int, Future[tuple[Reply, bytes]]] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._broken: str | None = None
        self._reader = threading.Thread(target=self._read_loop, name=f"ioi-chan-{name}", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        """Whether the stream still works."""
        return self._broken is None

    def why_broken(self) -> str:
        """Why the channel broke (for error messages); subclasses add what they know."""
        return self._broken or "the channel is open"

    def _fail_all(self, why: str) -> None:
        with self._lock:
            if self._broken is None:
                self._broken = why
            waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(ChannelError(f"box {self.name}: {self.why_broken()}"))

    def _read_loop(self) -> None:
        try:
            while True:
                got = read_frame(self._rfile)
                if got is None:
                    self._fail_all("the box closed its stream")
                    return
                reply = Reply.model_validate_json(got[0])
                with self._lock:
                    fut = self._waiting.pop(reply.id, None)
                if fut is not None and not fut.done():
                    fut.set_result((reply, got[1]))
        except (OSError, ValueError, WireError) as exc:
            self._fail_all(f"the box's stream broke: {exc}")

    def call(self, request: _Request, payload: bytes = b"", timeout: float | None = None) -> tuple[Reply, bytes]:
        fut: Future[tuple[Reply, bytes]] = Future()
        with self._lock:
            if self._broken is not None:
                raise ChannelError(f"box {self.name}: {self.why_broken()}")
            rid = next(self._ids)
            self._waiting[rid] = fut
        header = RequestFrame(id=rid, request=request).model_dump_json(exclude_defaults=False).encode()
        try:
            with self._write_lock:
                write_frame(self._wfile, header, payload)
        except (OSError, ValueError) as exc:
            self._fail_all(f"cannot write to the box: {exc}")
        try:
            reply, data = fut.result(timeout=timeout if timeout is not None else REQUEST_TIMEOUT_S)
        except TimeoutError:
            self._fail_all(f"no reply within {timeout or REQUEST_TIMEOUT_S:g} s (the box hangs)")
            raise ChannelError(f"box {self.name}: {self.why_broken()}") from None
        if reply.error:
            raise BoxRequestError(f"box {self.name}: {reply.error}")
        return reply, data

    def close(self) -> None:
        """Close our end (the server exits when its input ends); the reader thread ends at EOF."""
        with contextlib.suppress(OSError, ValueError):
            self._wfile.close()
        self._fail_all("the channel was closed")


class ProcessChannel(StreamChannel):
    """A :class:`StreamChannel` over a child process's stdin/stdout."""

    STDERR_KEPT = 8192

    def __init__(self, argv: Sequence[str], name: str, on_close: Callable[[], None] | None = None,
                 env: dict[str, str] | None = None) -> None:
        # A new session: Ctrl-C in the terminal reaches the harness, which cleans up, not the child.
        try:
            self.proc = subprocess.Popen(list(argv), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True, env=env)
        except OSError as exc:
            raise JudgeError(f"cannot start {argv[0]}: {exc}") from None
        self._stderr = bytearray()
        self._on_close = on_close
        threading.Thread(target=self._drain_stderr, name=f"ioi-chan-err-{name}", daemon=True).start()
        assert self.proc.stdout is not None and self.proc.stdin is not None
        super().__init__(self.proc.stdout, self.proc.stdin, name)

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in iter(self.proc.stderr.readline, b""):
            self._stderr += line
            del self._stderr[:-self.STDERR_KEPT]

    def stderr_text(self) -> str:
        """The tail of what the process wrote on stderr."""
        return bytes(self._stderr).decode(errors="replace").strip()

    def why_broken(self) -> str:
        why = super().why_broken()
        code = self.proc.poll()
        if code is not None:
            why += f" (exit status {code})"
        tail = self.stderr_text()
        return f"{why}: {tail[-2000:]}" if tail else why

    def close(self) -> None:
        """End the process: gracefully when the channel works, at once when it broke (hung, garbage)."""
        healthy = self.alive
        super().close()
        try:
            self.proc.wait(timeout=5 if healthy else 0.01)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        if self._on_close is not None:
            self._on_close()
        self._reader.join(timeout=5)


# -- a pool of boxes ------------------------------------------------------------------------------

ChannelFactory = Callable[[int], Channel]


@dataclass(eq=False)
class _Slot:
    index: int
    channel: Channel | None = None
    info: BoxInfo | None = None
    generation: int = 0
    busy: int = 0  # jobs in flight
    blobs: set[str] = field(default_factory=set)  # blob names already uploaded to this box
    error: str | None = None  # why the box could not be (re)started
    ready: threading.Event = field(default_factory=threading.Event)  # cleared while (re)starting


class ChannelPool:
    """N boxes started in parallel, each greeted with :class:`Hello`; a broken box is replaced.

    ``factory(i)`` starts box ``i`` and returns its channel. By default every box must start;
    with ``min_live`` the pool goes on with at least that many (a cloud account may refuse the
    rest: its concurrency limit), the others left empty (``start_errors`` says why).
    """

    def __init__(self, factory: ChannelFactory, size: int, workers_per_box: int | None = None,
                 isolation: str | None = None, min_live: int | None = None) -> None:
        if size < 1:
            raise ValueError("a pool needs at least one box")
        self.factory = factory
        self.workers_per_box = workers_per_box
        self.isolation = isolation
        self.slots = [_Slot(i) for i in range(size)]
        self._lock = threading.Lock()
        self.replacements = 0
        self.started_s = 0.0
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=size) as ex:
            errors = list(ex.map(self._start, self.slots))
        self.started_s = time.perf_counter() - t0
        failed = [e for e in errors if e]
        self.start_errors = failed
        if failed and size - len(failed) < (size if min_live is None else max(1, min_live)):
            self.close()
            raise JudgeError(f"cannot start the box pool: {failed[0]}")

    def _start(self, slot: _Slot) -> str | None:
        channel: Channel | None = None
        try:
            channel = self.factory(slot.index)
            reply, _ = channel.call(Hello(workers=self.workers_per_box, isolation=self.isolation),
                                    timeout=REQUEST_TIMEOUT_S)
            if reply.info is None:
                raise ChannelError(f"box {channel.name} did not describe itself")
            if reply.info.protocol != PROTOCOL_VERSION:
                raise ChannelError(f"box {channel.name} speaks protocol {reply.info.protocol}, this harness "
                                   f"{PROTOCOL_VERSION}: rebuild the judge image (`ioi-eval sandbox build`, "
                                   "with --e2b for the E2B template)")
        except Exception as exc:  # any failure to start is this slot's error, reported by its users
            if channel is not None:
                with contextlib.suppress(Exception):
                    channel.close()
            slot.channel, slot.error = None, str(exc) if isinstance(exc, JudgeError) else f"{type(exc).__name__}: {exc}"
            slot.ready.set()
            return slot.error
        slot.channel, slot.info, slot.error = channel, reply.info, None
        slot.blobs = set()
        slot.ready.set()
        return None

    @property
    def info(self) -> BoxInfo:
        """What the first live box said about itself."""
        for s in self.slots:
            if s.info is not None:
                return s.info
        raise JudgeError("no box of the pool is running")

    def acquire(self, prefer: _Slot | None = None, jobs: int = 1) -> tuple[_Slot, int]:
        """A slot to send jobs to (``prefer`` if given, else the least busy); marks ``jobs`` in flight."""
        with self._lock:
            slot = prefer or self.least_busy()
            slot.busy += jobs
            return slot, slot.generation

    def least_busy(self, extra: dict[int, int] | None = None) -> _Slot:
        """The live slot with the fewest jobs per run slot (counting ``extra`` jobs planned per slot index)."""
        extra = extra or {}

        def load(s: _Slot) -> tuple[bool, float]:
            workers = s.info.workers if s.info is not None else 1
            return s.channel is None, (s.busy + extra.get(s.index, 0)) / max(1, workers)

        return min(self.slots, key=load)

    def release(self, slot: _Slot, n: int = 1) -> None:
        """Mark ``n`` jobs of the slot done (the counterpart of :meth:`acquire`)."""
        with self._lock:
            slot.busy -= n

    def channel(self, slot: _Slot) -> Channel:
        """The slot's channel (waiting while its box restarts); raises :class:`ChannelError` if it is gone."""
        slot.ready.wait(REQUEST_TIMEOUT_S)
        ch = slot.channel
        if ch is None:
            raise ChannelError(f"box {slot.index} is not running: {slot.error}")
        return ch

    def replace(self, slot: _Slot, generation: int) -> None:
        """Replace the slot's box after a failure seen on ``generation`` (once per failure)."""
        with self._lock:
            if slot.generation != generation:
                return  # another thread replaced it already
            slot.generation += 1
            slot.ready.clear()
            old, slot.channel, slot.info = slot.channel, None, None
            self.replacements += 1
        if old is not None:
            old.close()
        self._start(slot)

    def close(self) -> None:
        """Stop every box (in parallel: stopping a container takes a while)."""
        channels = []
        for s in self.slots:
            ch, s.channel = s.channel, None
            if ch is not None:
                channels.append(ch)
        if len(channels) == 1:
            channels[0].close()
        elif channels:
            with ThreadPoolExecutor(max_workers=len(channels)) as ex:
                list(ex.map(lambda c: c.close(), channels))


# -- the box --------------------------------------------------------------------------------------

def _top(box_path: str) -> str:
    """``blobs/<name>`` or ``work/<id>``: the stored object a box path lies in."""
    parts = os.path.normpath(box_path).split("/")
    return "/".join(parts[:2])


def _job_paths(job: RunJob | CompareJob) -> set[str]:
    if isinstance(job, CompareJob):
        return {_top(job.expected), _top(job.output)}
    out = {_top(p) for p in (*job.fifos, *job.outputs)}
    for proc in job.procs:
        out.update(_top(p) for p in (*proc.binds.values(), *proc.rw_binds.values()))
        out.update(_top(p) for p in (proc.stdin, proc.stdout, proc.stderr) if p)
    return out


def _job_deadline(jobs: Iterable[RunJob | CompareJob]) -> float:
    """How long a batch may take before its box counts as hung: the wall limits, as far as run-queue wait
    on a loaded machine may extend them (MAX_WAIT_FACTOR), plus a margin."""
    total = 0.0
    for job in jobs:
        if isinstance(job, RunJob):
            walls = [p.limits.wall_s * (1 + MAX_WAIT_FACTOR) if p.limits.wall_s else NO_WALL_LIMIT_S
                     for p in job.procs]
            total += max(walls, default=0.0)
    return total + EXECUTE_MARGIN_S


class RemoteBox:
    """A :class:`~ioi_eval.backends.base.Box` spread over the boxes of a :class:`ChannelPool`."""

    host_root: Path | None = None  # the boxes' work roots are theirs, not folders of this machine

    def __init__(self, pool: ChannelPool, on_close: Callable[[], None] | None = None) -> None:
        self.pool = pool
        self._on_close = on_close
        self.info: BoxInfo = pool.info  # the first box's; the boxes run one image
        self.workers = sum(s.info.workers for s in pool.slots if s.info is not None)
        self.isolation_note = self.info.isolation_note
        self._content: dict[str, Path | bytes] = {}  # blob name -> its content on this host
        self._made_in: dict[str, _Slot] = {}  # blob name -> the box that made it (promote)
        self._dirs: dict[str, tuple[_Slot, int]] = {}  # work dir -> (box, generation) it lives in
        self._lost: set[str] = set()  # work dirs whose box was replaced after they were made
        self._lock = threading.Lock()
        self._digests: dict[tuple[str, int, int], str] = {}
        self._file_digests = FileDigests()
        self._spool = Path(tempfile.mkdtemp(prefix="ioi-remote-blobs-"))

    # -- files ----------------------------------------------------------------------------------
    def _digest_file(self, src: Path) -> str:
        st = src.stat()
        key = (str(src.resolve()), st.st_size, st.st_mtime_ns)
        digest = self._digests.get(key)
        if digest is None:
            digest = self._digests[key] = self._file_digests.digest(src)
        return digest

    def put_file(self, src: Path, executable: bool = False) -> str:
        """Remember a host file by content; it is uploaded to a box when a job there needs it."""
        name = self._digest_file(src) + (".x" if executable else "")
        with self._lock:
            self._content.setdefault(name, src)
        return f"blobs/{name}"

    def put_bytes(self, data: bytes, executable: bool = False) -> str:
        """Remember bytes by content (uploaded on first use, like :meth:`put_file`)."""
        name = hashlib.sha256(data).hexdigest() + (".x" if executable else "")
        with self._lock:
            self._content.setdefault(name, bytes(data))
        return f"blobs/{name}"

    def new_dir(self) -> str:
        """Name a fresh scratch folder; the first job that uses it creates it in its box."""
        return f"work/{uuid.uuid4().hex}"

    def _owner(self, top: str) -> _Slot | None:
        with self._lock:
            return self._owner_locked(top)

    def _owner_locked(self, top: str) -> _Slot | None:
        """The box a work folder lives in, or None (a folder never used, or lost with its box: then it is
        remembered as lost); holds the lock."""
        bound = self._dirs.get(top)
        if bound is None:
            return None
        slot, gen = bound
        if slot.generation != gen:  # its box was replaced: the folder and what earlier steps left there are gone
            del self._dirs[top]
            self._lost.add(top)
            return None
        return slot

    def _gone(self, box_path: str) -> JudgeError:
        top = _top(box_path)
        if top in self._lost:
            return BoxLostError(f"{box_path}: its box was lost after an earlier step wrote there")
        return JudgeError(f"{box_path}: its box is gone (it died or was never used)")

    def _call(self, slot: _Slot, request: _Request, payload: bytes = b"",
              timeout: float | None = None) -> tuple[Reply, bytes]:
        channel = self.pool.channel(slot)  # waits while the box restarts
        gen = slot.generation
        try:
            return channel.call(request, payload, timeout)
        except ChannelError:
            self.pool.replace(slot, gen)
            raise

    def promote(self, box_path: str, executable: bool = False) -> str:
        """Move a job's product into its box's blob store."""
        slot = self._owner(_top(box_path))
        if slot is None:
            raise self._gone(box_path)
        reply, _ = self._call(slot, Promote(path=box_path, executable=executable))
        assert reply.blob is not None
        name = reply.blob.split("/", 1)[1]
        with self._lock:
            slot.blobs.add(name)
            if name not in self._content:
                self._made_in[name] = slot
        return reply.blob

    def read_bytes(self, box_path: str, limit: int | None = None) -> bytes:
        """Read (the head of) a file; blobs known here are read without asking a box."""
        top = _top(box_path)
        if top.startswith("blobs/") and top == os.path.normpath(box_path):
            data = self._blob_content(top.split("/", 1)[1])
            return data if limit is None else data[:limit]
        slot = self._owner(top)
        if slot is None:
            raise self._gone(box_path)
        _, data = self._call(slot, ReadFile(path=box_path, limit=limit))
        return data

    def _blob_content(self, name: str) -> bytes:
        with self._lock:
            content = self._content.get(name)
            maker = self._made_in.get(name)
        if isinstance(content, bytes):
            return content
        if isinstance(content, Path):
            return content.read_bytes()
        if maker is None or name not in maker.blobs:
            raise JudgeError(f"blob {name} is lost: the box that made it is gone")
        _, data = self._call(maker, ReadFile(path=f"blobs/{name}"))
        spooled = self._spool / name  # on disk, not in memory: a long run makes many programs
        spooled.write_bytes(data)
        with self._lock:
            self._content[name] = spooled  # now other boxes can get it from here
        return data

    def remove(self, box_paths: Iterable[str]) -> None:
        """Delete scratch folders or files in the boxes that hold them (a dead box needs nothing)."""
        per_slot: dict[int, tuple[_Slot, list[str]]] = {}
        for bp in box_paths:
            top = _top(bp)
            slot = self._owner(top)
            if top == os.path.normpath(bp):
                with self._lock:
                    self._dirs.pop(top, None)
                    self._lost.discard(top)
            if slot is not None:
                per_slot.setdefault(slot.index, (slot, []))[1].append(bp)
        for slot, paths in per_slot.values():
            with contextlib.suppress(ChannelError):  # a dead box took its folders with it
                self._call(slot, RemovePaths(paths=paths))

    def _upload(self, slot: _Slot, names: set[str]) -> None:
        missing = sorted(n for n in names if n not in slot.blobs)
        batch: list[tuple[str, bytes]] = []
        size = 0
        for name in missing:
            data = self._blob_content(name)
            batch.append((name, data))
            size += len(data)
            if size >= UPLOAD_CHUNK:
                self._put(slot, batch)
                batch, size = [], 0
        if batch:
            self._put(slot, batch)

    def _put(self, slot: _Slot, items: list[tuple[str, bytes]]) -> None:
        specs = [_BlobSpec(name=n, size=len(d)) for n, d in items]
        self._call(slot, PutBlobs(blobs=specs), b"".join(d for _, d in items))
        slot.blobs.update(n for n, _ in items)

    # -- jobs -----------------------------------------------------------------------------------
    def execute(self, batch: Batch) -> BatchResult:
        """Run a batch, its jobs spread over the boxes; a box that breaks is replaced and its jobs retried once."""
        results: list[JobResult | None] = [None] * len(batch.jobs)
        groups: dict[int, list[int]] = {}
        slots: dict[int, _Slot] = {}
        for i, job in enumerate(batch.jobs):
            owners = {s.index: s for s in (self._owner(p) for p in _job_paths(job) if p.startswith("work/")) if s}
            with self._lock:
                lost = sorted(p for p in _job_paths(job) if p in self._lost)
            if lost:  # what an earlier step left there is gone: only running the whole test again helps
                raise BoxLostError(f"{lost[0]}: its box was lost after an earlier step wrote there")
            if len(owners) > 1:
                results[i] = JobResult(error="the job's folders live in different boxes")
                continue
            slot = next(iter(owners.values()), None)
            if slot is None:  # no affinity: the least busy box, counting this batch's jobs
                slot = self.pool.least_busy({k: len(v) for k, v in groups.items()})
            groups.setdefault(slot.index, []).append(i)
            slots[slot.index] = slot
        if len(groups) == 1:
            ((index, idxs),) = groups.items()
            self._run_group(slots[index], batch, idxs, results)
        elif groups:
            with ThreadPoolExecutor(max_workers=len(groups)) as ex:
                futs = [ex.submit(self._run_group, slots[k], batch, v, results) for k, v in groups.items()]
                for f in futs:
                    f.result()
        return BatchResult(results=[r if r is not None else JobResult(error="not run") for r in results])

    def _run_group(self, slot: _Slot, batch: Batch, idxs: list[int], results: list[JobResult | None],
                   retry: bool = True) -> None:
        jobs = [batch.jobs[i] for i in idxs]
        slot, gen = self.pool.acquire(slot, len(jobs))
        try:
            new_dirs = []
            with self._lock:
                for job in jobs:
                    for top in _job_paths(job):
                        if top.startswith("work/") and self._owner_locked(top) is None:
                            if top in self._lost:  # made by an earlier step, in a box lost since
                                raise BoxLostError(f"{top}: its box was lost after an earlier step wrote there")
                            self._dirs[top] = (slot, gen)
                            new_dirs.append(top)
            blobs = {p.split("/", 1)[1] for job in jobs for p in _job_paths(job) if p.startswith("blobs/")}
            self._upload(slot, blobs)
            reply, _ = self._call(slot, Execute(batch=Batch(jobs=jobs), dirs=sorted(new_dirs)),
                                  timeout=_job_deadline(jobs))
            assert reply.result is not None
            for i, res in zip(idxs, reply.result.results, strict=True):
                results[i] = res
        except ChannelError as exc:
            if retry:  # on a fresh box (the broken one was replaced); the folders these jobs made start again
                self.pool.release(slot, len(jobs))
                slot = None  # released already
                with self._lock:
                    for top in new_dirs:
                        self._dirs.pop(top, None)
                self._run_group(self.pool.least_busy(), batch, idxs, results, retry=False)
                return
            for i in idxs:
                results[i] = JobResult(error=f"the box failed twice: {exc}")
        except BoxLostError:  # a folder an earlier step made died with its box: the caller runs that step again
            raise
        except JudgeError as exc:  # a request failed inside the box, or a blob is lost
            for i in idxs:
                results[i] = JobResult(error=str(exc))
        finally:
            if slot is not None:
                self.pool.release(slot, len(jobs))

    def close(self) -> None:
        """Stop every box of the pool."""
        try:
            self.pool.close()
        finally:
            shutil.rmtree(self._spool, ignore_errors=True)
            if self._on_close is not None:
                self._on_close()
                self._on_close = None

    def __enter__(self) -> RemoteBox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
