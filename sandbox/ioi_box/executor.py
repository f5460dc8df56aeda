"""The in-box executor: receives batches of jobs and returns their results.

The same class runs in every box: in-process for the local backend, inside a container or a
cloud VM for the others. It owns a work root with two areas:

- ``blobs/<sha256>``: content-addressed files (executables, inputs, expected outputs) that the
  host puts once and references by box path in any number of jobs;
- ``work/<id>/``: scratch folders for one job (outputs, FIFOs, compile folders), removed when the
  host is done with them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import _native, ownership
from .compare_py import PY_COMPARATORS, compare_files
from .isolation import Isolation, detect
from .protocol import (
    Batch,
    BatchResult,
    CompareJob,
    CompareResult,
    JobResult,
    Proc,
    ProcResult,
    ProcStatus,
    RunJob,
)

_SANDBOX_READABLE = 0o755


def _digest_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def classify(raw: dict, proc: Proc) -> ProcResult:
    """Turn the launcher's raw measurements into a status, CMS-style.

    Order matters: a tree killed for CPU time is TLE even if the kill shows as a signal, an OOM
    kill is MLE (never a bare signal 11), and a file-size signal is OLE.
    """
    lim = proc.limits
    cpu = float(raw.get("cpu_s", 0.0))
    common = {
        "exit_code": raw.get("exit_code"),
        "signal": raw.get("signal"),
        "cpu_s": cpu,
        "wall_s": float(raw.get("wall_s", 0.0)),
        "wait_s": float(raw.get("wait_s", 0.0)),
        "memory_bytes": int(raw.get("memory_bytes", 0)),
    }
    if raw.get("setup_error"):
        return ProcResult(status=ProcStatus.XX, message=f"sandbox setup failed: {raw['setup_error']}", **common)
    sig = raw.get("signal")
    if raw.get("cpu_limit_hit") or (lim.cpu_s and cpu > lim.cpu_s):
        return ProcResult(status=ProcStatus.TLE_CPU,
                          message=f"Execution timed out (CPU time {cpu:.3f} s > {lim.cpu_s:g} s)", **common)
    if raw.get("wall_limit_hit"):
        wait = common["wait_s"]
        waited = f", after {wait:.3f} s waiting for a CPU" if wait >= 0.001 else ""
        return ProcResult(status=ProcStatus.TLE_WALL,
                          message=f"Execution timed out (wall clock limit {lim.wall_s:g} s exceeded{waited})",
                          **common)
    if raw.get("oom_killed") or (lim.memory_bytes and common["memory_bytes"] > lim.memory_bytes):
        return ProcResult(status=ProcStatus.MLE, message="Memory limit exceeded", **common)
    if sig == 25:  # SIGXFSZ
        return ProcResult(status=ProcStatus.OLE, message="Output limit exceeded", **common)
    if sig is not None:
        return ProcResult(status=ProcStatus.SG, message=f"Execution killed by signal {sig}", **common)
    if raw.get("exit_code"):
        return ProcResult(status=ProcStatus.RE,
                          message=f"Execution failed because the return code was nonzero ({raw['exit_code']})",
                          **common)
    return ProcResult(status=ProcStatus.OK, **common)


class Executor:
    """Executes job batches inside one box."""

    def __init__(self, root: Path | None = None, isolation: Isolation | None = None,
                 workers: int | None = None, digest_file: Callable[[Path], str] | None = None) -> None:
        """``digest_file`` gives the sha256 (hex) of a host file for :meth:`put_file`; the host may
        pass one that remembers digests across processes (default: hash the file every time)."""
        self._digest_file = digest_file or _digest_file
        self._owns_root = root is None  # a root given by the caller (a mounted volume) stays
        base = ownership.default_base()
        me = ownership.owner(base)  # held until this process ends: live harnesses are never cleaned up
        self.cgroups = _native.cgroup_setup(me.cgroup_name)
        ownership.remove_stale(base, _native.cgroup_remove)
        if root is None:
            root = Path(tempfile.mkdtemp(prefix=me.root_prefix(), dir=base))
        self.root = root
        self._root_str = os.fspath(root).rstrip("/") or "/"  # host_str's prefix (a root of "/" gives "//x": valid)
        for sub in ("", "blobs", "work"):
            (root / sub).mkdir(exist_ok=True)
            os.chmod(root / sub, _SANDBOX_READABLE)
        if isolation is None:
            isolation, self.isolation_note = detect()
        else:
            self.isolation_note = isolation.name
        self.isolation = isolation
        self.workers = workers or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ioi-box")
        self._lock = threading.Lock()
        self.cpu_s_total = 0.0  # CPU time of everything run in this box (for benchmarks and reports)

    # -- files -------------------------------------------------------------------------------
    def host_path(self, box_path: str) -> Path:
        """The host path of a box path; refuses paths that leave the work root.

        Box paths name files the executor made (no symlinks inside the root), so a lexical check
        suffices and keeps system calls off the per-test path.
        """
        return Path(self.host_str(box_path))

    def host_str(self, box_path: str) -> str:
        """:meth:`host_path` as a string: what the per-run path takes (the launcher's spec, open, the comparator).

        A run resolves ~10 box paths; building a ``Path`` for each (pathlib parses every join) was a tenth
        of the harness's own CPU per test."""
        rel = os.path.normpath(box_path)
        if rel.startswith(("/", "..")) or rel == ".":
            raise ValueError(f"box path escapes the work root: {box_path!r}")
        return f"{self._root_str}/{rel}"

    def put_file(self, src: Path, executable: bool = False) -> str:
        """Store a host file by content; returns its box path. Hard-links when it can, never changing ``src``."""
        digest = self._digest_file(src)
        mode = 0o755 if executable else 0o644
        return self._store(digest, lambda dst: self._link_or_copy(src, dst, mode), executable)

    def put_bytes(self, data: bytes, executable: bool = False) -> str:
        """Store bytes by content; returns their box path."""
        digest = hashlib.sha256(data).hexdigest()
        return self._store(digest, lambda dst: dst.write_bytes(data), executable)

    def _store(self, digest: str, write, executable: bool) -> str:
        name = digest + (".x" if executable else "")
        box_path = f"blobs/{name}"
        dst = self.root / box_path
        if not dst.exists():
            tmp = dst.with_name(f".{name}.{uuid.uuid4().hex}")
            write(tmp)
            mode = 0o755 if executable else 0o644
            if tmp.stat().st_mode & 0o777 != mode:
                os.chmod(tmp, mode)  # only ever a copy: a hard link already has the mode (_link_or_copy)
            os.replace(tmp, dst)
        return box_path

    @staticmethod
    def _link_or_copy(src: Path, dst: Path, mode: int) -> None:
        # Blobs are only ever bound read-only into a box, so sharing the inode with a host file is
        # safe, but only when the file already has the blob's mode: the blob store chmods what it
        # stores, and a chmod of a hard link would change the caller's file (a problem package is
        # never modified). Copy otherwise, and when the file lives on another file system.
        real = os.path.realpath(src)  # link(2) would link a symlink itself, not its target
        st = os.stat(real)
        if stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == mode:
            try:
                os.link(real, dst)
                return
            except OSError:
                pass
        shutil.copyfile(src, dst)

    def promote(self, box_path: str, executable: bool = False) -> str:
        """Move a file produced by a job (e.g. a compiled program) into the blob store."""
        src = self.host_path(box_path)
        return self._store(_digest_file(src), lambda dst: shutil.copyfile(src, dst), executable)

    def new_dir(self) -> str:
        """A fresh scratch folder for one job; readable by the sandbox user."""
        box_path = f"work/{uuid.uuid4().hex}"
        d = self.root / box_path
        d.mkdir()
        os.chmod(d, 0o777)
        return box_path

    def make_dir(self, box_path: str) -> str:
        """Create the scratch folder ``work/<id>`` named by a remote host (see :meth:`new_dir`)."""
        if not box_path.startswith("work/") or "/" in box_path[5:] or box_path in ("work/", "work/.", "work/.."):
            raise ValueError(f"not a scratch folder name: {box_path!r}")
        d = self.host_path(box_path)
        d.mkdir(exist_ok=True)
        os.chmod(d, 0o777)
        return box_path

    def read_bytes(self, box_path: str, limit: int | None = None) -> bytes:
        """Read (the head of) a file in the box."""
        with open(self.host_str(box_path), "rb") as f:
            return f.read(limit) if limit is not None else f.read()

    def remove(self, box_paths: Iterable[str]) -> None:
        """Remove scratch folders or files."""
        for bp in box_paths:
            p = self.host_path(bp)
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)

    # -- jobs --------------------------------------------------------------------------------
    def execute(self, batch: Batch) -> BatchResult:
        """Run a batch; independent jobs run in parallel on the executor's workers."""
        if len(batch.jobs) == 1:
            return BatchResult(results=[self.run_job(batch.jobs[0])])
        return BatchResult(results=list(self._pool.map(self.run_job, batch.jobs)))

    def run_job(self, job: RunJob | CompareJob) -> JobResult:
        """Run one job; any failure of the box itself becomes a job error, never an exception."""
        try:
            if isinstance(job, CompareJob):
                return self._compare(job)
            return self._run(job)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # the host turns this into SE with the message
            return JobResult(error=f"{type(exc).__name__}: {exc}")

    def _compare(self, job: CompareJob) -> JobResult:
        if job.comparator in PY_COMPARATORS:  # other judges' comparisons, reproduced in Python
            ok, message = compare_files(job.comparator, self.host_path(job.expected), self.host_path(job.output))
            return JobResult(compare=CompareResult(score=1.0 if ok else 0.0, message=message))
        ok, message = _native.compare(job.comparator, self.host_str(job.expected),
                                      self.host_str(job.output), job.abs_tol, job.rel_tol)
        return JobResult(compare=CompareResult(score=1.0 if ok else 0.0, message=message))

    def _run(self, job: RunJob) -> JobResult:
        for fifo in job.fifos:
            p = self.host_path(fifo)
            if not p.parent.is_dir():
                p.parent.mkdir(parents=True)
                os.chmod(p.parent, 0o777)
            p.unlink(missing_ok=True)  # a re-run of the job in the same folder makes them afresh
            os.mkfifo(p, 0o666)
            os.chmod(p, 0o666)  # umask would hide it from the sandbox user
        for out in job.outputs:
            p = self.host_str(out)
            with open(p, "wb"):  # empty, also for a re-run of the job in the same folder
                pass
            os.chmod(p, 0o666)
        scratch_dirs = []
        specs = []
        try:
            for proc in job.procs:
                scratch = self.root
                if self.isolation.needs_scratch:
                    scratch = self.root / self.new_dir()
                    scratch_dirs.append(scratch)
                # stdin/stdout/stderr are opened by the launcher before it drops the uid.
                specs.append(self.isolation.spec(proc, self.host_str, scratch))
            raws = _native.run(specs)
            with self._lock:
                self.cpu_s_total += sum(float(r.get("cpu_s", 0.0)) for r in raws)
            results = []
            for proc, raw in zip(job.procs, raws, strict=True):
                res = classify(self.isolation.normalise(raw), proc)
                res.stdout = self._captured(proc.stdout, proc.capture_stdout)
                res.stderr = self._captured(proc.stderr, proc.capture_stderr)
                results.append(res)
            return JobResult(procs=results)
        finally:
            for s in scratch_dirs:
                shutil.rmtree(s, ignore_errors=True)

    def _captured(self, box_path: str | None, limit: int) -> str:
        """The head of a process's stdout/stderr file, when the job asked for it.

        The launcher opens stdio in the child, so a process killed before it got there (e.g. a
        Communication user still blocked opening its FIFO stdin when the manager ended) left no
        file: it wrote nothing.
        """
        if not (limit and box_path):
            return ""
        try:
            return self.read_bytes(box_path, limit).decode(errors="replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        """Stop the workers and delete the work root (when the executor made it)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
