"""Whole submissions judged on the nodes: one actor call per submission, only the report comes back.

The box path (:mod:`.channel`) makes the driver run the judge logic and send about three actor calls per test;
this one moves the judge itself into the actors. Each :class:`JudgeActor` holds a local
:class:`~ioi_eval.judge.judge.Judge` over its node's box (bubblewrap in-process, or Docker on its node), and
answers ``judge(package, problem, submission)`` with the submission's :class:`~ioi_eval.judge.results.JudgeReport`.

- The problem package (its folder, tests, checker, graders) is packed once per run on the driver, put into the
  object store once, and unpacked once per node by content hash (:func:`unpack`, in :class:`.shipping.NodeBlobs`'
  folder). The problem object itself (possibly a view: a reward's one subtask) travels once per actor, with its
  paths moved onto the node's copy (:func:`rebase`). Files the problem names outside its folder (a hand-made
  view's tests or checker kept elsewhere) travel in the same tar, each folder's files together
  (:func:`outside_files`); a folder or special file named outside it is an error naming it.
- Compiles happen in the actors, once per cluster: behind the node's compile cache (``<cache>/compile``) each
  actor asks the pool's compile registry (:mod:`..backends.ray.compiles`: a named actor, keyed by the compile
  cache's key, its programs in the object store). A submission judged on N nodes is compiled once; the other
  nodes take its program from the object store into their cache (one compiling at a time per key: the others
  wait for it).
- :class:`SubmissionPool` (driver) keeps at most ``slots`` submissions in flight per actor, least busy first.
  An actor or node that dies fails its submissions' calls; each is retried once on another actor (a fresh one is
  started where Ray finds room), then it is a report of SE results naming the cause. Ray never retries by
  itself (``max_restarts=0``, ``max_task_retries=0``), so the driver alone decides what is judged twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
import socket
import tarfile
import tempfile
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ..backends.ray.cluster import ROOM_WAIT_S
from ..backends.ray.compiles import RayCompileTier, open_registry
from ..backends.ray.shipping import NodeBlobs
from ..errors import BoxRequestError, PackageError, RayClusterError
from ..problem.model import Problem
from .results import JudgeReport, ReportText, facts
from .submission import Submission

PACKAGE_SUFFIX = ".pkg.tar"
OUTSIDE = ".ioi-outside"  # where files a problem names outside its package folder travel, in the package's tar
PROBLEM_REFS = 256  # problem objects (views) kept in the object store by the driver, most recent first
SUBMISSION_TIMEOUT_S = 600.0  # plus each test's wall budget: an actor silent for longer is taken as hung
CHUNK_MAX = 16  # submissions in one actor call (judged one after another there)
CHUNKS_PER_SLOT = 4  # ...as long as every slot gets this many calls (the last ones finish close together)


def chunk_size(waiting: int, slots: int) -> int:
    """How many of ``waiting`` submissions go in one actor call, for a pool of ``slots``: one while the slots
    outnumber them, up to :data:`CHUNK_MAX` when each slot would still get :data:`CHUNKS_PER_SLOT` calls (this
    spares the driver a Ray call per submission where it is the limit, and keeps the last calls short)."""
    return max(1, min(CHUNK_MAX, waiting // (CHUNKS_PER_SLOT * max(1, slots))))


def outside_files(problem: Problem) -> dict[Path, str]:
    """The files ``problem`` names outside its package folder (its solutions aside: nothing on a node judges
    them), each with its place in the shipped package: ``.ioi-outside/<hash of its folder>/<its name>``, so files
    of one folder stay side by side (a grader and the header it includes). Raises :class:`PackageError` naming a
    folder or special file named there: only plain files travel."""
    root = _normal(problem.root)
    found: dict[Path, str] = {}

    def visit(value: Path) -> Path:
        path = _normal(value)
        if path.is_relative_to(root) or path in found:
            return value
        if not path.is_file():
            if path.exists():
                raise PackageError(f"problem {problem.code}: {value} is outside its package folder {root} and not "
                                   f"a plain file, so it cannot travel to the Ray nodes")
            return value  # missing here too: judged as it is locally (the judge reports it)
        folder = hashlib.sha256(str(path.parent).encode()).hexdigest()[:16]
        found[path] = f"{OUTSIDE}/{folder}/{path.name}"
        return value

    map_paths(problem.model_copy(update={"solutions": ()}), visit)
    return found


def _normal(path: Path) -> Path:
    """``path`` absolute, with ``..`` resolved as text (a package's own symlinks stay inside it: the loader checks)."""
    return Path(os.path.normpath(path if path.is_absolute() else Path.cwd() / path))


def map_paths(value: Any, move: Callable[[Path], Path]) -> Any:
    """``value`` (a problem, or any model, tuple, list, dict of them) with every path replaced by ``move(path)``;
    what does not change (``move`` returned the path itself) is returned as is."""
    if isinstance(value, Path):
        return move(value)
    if isinstance(value, BaseModel):
        update = {}
        for field in type(value).model_fields:
            item = getattr(value, field)
            moved = map_paths(item, move)
            if moved is not item:
                update[field] = moved
        return value.model_copy(update=update) if update else value
    if isinstance(value, tuple | list):
        items = [map_paths(v, move) for v in value]
        return type(value)(items) if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, dict):
        moved_d = {k: map_paths(v, move) for k, v in value.items()}
        return moved_d if any(moved_d[k] is not value[k] for k in value) else value
    return value


def pack_problem(root: Path, outside: dict[Path, str] | None = None) -> tuple[str, bytes]:
    """The package folder as a reproducible tar (sorted, no times or owners): (``<sha256>.pkg.tar``, bytes).
    ``outside`` (:func:`outside_files`) adds those files under their places in it."""
    buf = io.BytesIO()
    # A symlink that resolves inside the package (the loader refuses any other, and loops) is packed as
    # what it points at, so the node's copy reads as the package does here.
    entries = []
    for folder, dirs, files in os.walk(root, followlinks=True):
        entries += [Path(folder) / name for name in (*dirs, *files)]
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(entries, key=lambda p: p.relative_to(root).as_posix()):
            real = path.resolve() if path.is_symlink() else path
            if not (real.is_file() or real.is_dir()):
                continue  # a package holds plain files and folders (the loader checks it)
            info = tar.gettarinfo(str(real), arcname=str(path.relative_to(root)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if real.is_file():
                with real.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
        for path, place in sorted((outside or {}).items(), key=lambda kv: kv[1]):
            info = tar.gettarinfo(str(path), arcname=place)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with path.open("rb") as f:
                tar.addfile(info, f)
    data = buf.getvalue()
    return f"{hashlib.sha256(data).hexdigest()}{PACKAGE_SUFFIX}", data


def unpack(blobs: NodeBlobs, name: str, data: bytes | None) -> Path:
    """The node's unpacked copy of package ``name`` (``pkg-<sha256>/`` beside the blobs), made once per node:
    from ``data`` (fetched from the object store) when the node lacks it. Concurrent actors race benignly."""
    dest = blobs.root / f"pkg-{name.partition('.')[0]}"
    if dest.is_dir():
        return dest
    if blobs.path(name) is None:
        if data is None:
            raise FileNotFoundError(f"package {name} is neither on this node nor in the object store")
        blobs.add(name, data)
    tmp = Path(tempfile.mkdtemp(dir=blobs.root, prefix=".part-pkg-"))
    try:
        with tarfile.open(blobs.root / name) as tar:
            tar.extractall(tmp, filter="data")
        os.rename(tmp, dest)
    except OSError:
        if not dest.is_dir():  # not another actor's win: a real failure
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def rebase(value: Any, old: Path, new: Path) -> Any:
    """``value`` (a problem, or any model, tuple, list, dict of them) with every path under ``old`` moved under
    ``new``; what does not change is returned as is."""
    return map_paths(value, lambda p: new / p.relative_to(old) if p.is_relative_to(old) else p)


class JudgeActor:
    """A judge on one node: a local :class:`Judge` over this node's box (``box``: ``local`` or ``docker``; or
    ``e2b``: E2B sandboxes whose leases and creations go through ``limiter``, the cluster's) with ``slots`` run
    slots. ``canned`` (a report's JSON) answers every submission with it at once, running nothing:
    the driver-ceiling benchmark's actor. ``compiles`` (the pool's compile registry actor) shares compiles
    across the cluster. Plain Python: the driver wraps it with ``ray.remote``."""

    def __init__(self, judge_class: Any, box: str = "local", slots: int = 1, image: str | None = None,
                 canned: bytes | None = None, judge_options: dict[str, Any] | None = None,
                 limiter: Any = None, compiles: Any = None) -> None:
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.blobs = NodeBlobs(self.node_id)
        self.box, self.canned = box, canned
        # a canned actor answers with its report's facts too (read once here, as a real one reads each report's)
        self._canned_facts = facts(JudgeReport.model_validate_json(canned)) if canned is not None else None
        self._lock = threading.Lock()
        self._problems: OrderedDict[str, Problem] = OrderedDict()
        self.judge: Any = None
        if canned is None:
            options: dict[str, Any] = {"image": image} if box == "docker" and image else {}
            backend: Any = box
            if box == "e2b":
                from ..backends.e2b import E2BBackend

                backend = E2BBackend(limiter=limiter)
            if compiles is not None:
                options["shared_compiles"] = RayCompileTier(compiles)
            # judge_class is Judge, passed by the driver: this module does not import judge.py (no cycle)
            self.judge = judge_class(backend, workers=slots, **(judge_options or {}), **options)
            _ = self.judge.box  # open it now: a box that cannot start fails the actor's start, not a submission

    def where(self) -> dict[str, Any]:
        """Where this actor runs (node id, host, pid, box, its box's work root on the node where it is a folder
        there) and its box's tools (for ``Judge.info``)."""
        box = self.judge.box if self.judge is not None else None
        root = box.host_root if box is not None else None
        return {"node_id": self.node_id, "host": socket.gethostname(), "pid": os.getpid(), "box": self.box,
                "info": box.info.model_dump(mode="json") if box is not None else None,
                "host_root": str(root) if root is not None else None}

    def judge_submissions(self, problems: list[tuple[str, Any, Any]], jobs: list[tuple[int, Any]],
                          skip: bool, parallel: int | None = None) -> list[tuple[bytes, str, Any]]:
        """Judge submissions one after another, each with at most ``parallel`` tests at once (default: the box's
        slots). ``problems`` are the call's distinct problems, each (package name, package ref, problem ref); each
        job is (its problem's index there, submission). Each answer is (the report's JSON, "", its
        :func:`~.results.facts`) or (b"", the error that kept it from being judged, None): the driver records the
        JSON as it is, without parsing it. (The refs sit inside a list, so Ray hands them over as refs, not
        values.)"""
        out: list[tuple[bytes, str, Any]] = []
        for index, submission in jobs:
            if self.canned is not None:
                out.append((self.canned, "", self._canned_facts))
                continue
            try:
                if isinstance(submission, list | tuple):  # as _wire sent it
                    name, language, source, outputs = submission
                    submission = Submission(name=name, language=language, source=source, outputs=outputs)
                problem = self._problem(*problems[index])
                report = self.judge.judge(problem, submission, skip=skip, parallel=parallel)
                out.append((report.model_dump_json().encode(), "", facts(report)))
            except Exception as exc:  # reported to the driver (one line); the actor keeps serving
                out.append((b"", f"{type(exc).__name__}: {exc}", None))
        return out

    def _problem(self, package: str, package_ref: Any, problem_ref: Any) -> Problem:
        import ray

        key = problem_ref.hex()
        with self._lock:
            problem = self._problems.get(key)
            if problem is not None:
                self._problems.move_to_end(key)
                return problem
        dest = self.blobs.root / f"pkg-{package.partition('.')[0]}"
        root = dest if dest.is_dir() else unpack(self.blobs, package,
                                                 None if self.blobs.path(package) else ray.get(package_ref))
        original: Problem = ray.get(problem_ref)
        problem = rebase(original, original.root, root)
        with self._lock:
            self._problems[key] = problem
            while len(self._problems) > PROBLEM_REFS:
                self._problems.popitem(last=False)
        return problem

    def shutdown(self) -> None:
        """Close the box (work root, cgroups, a container) before the actor is killed."""
        if self.judge is not None:
            self.judge.close()


@dataclass
class _Waiting:
    """A submission queued by :meth:`SubmissionPool.submit`."""

    problem: Problem
    submission: Any
    skip: bool
    convert: Callable[[ReportText | str], Any]
    future: Future


class _Actor:
    """The driver's record of one judge actor."""

    def __init__(self, handle: Any, index: int) -> None:
        self.handle, self.index = handle, index
        self.busy = 0
        self.alive = True
        self.where: dict[str, Any] = {}


class SubmissionPool:
    """The driver's end: judge actors spread over the nodes, one call per submission (see the module doc)."""

    def __init__(self, ray: Any, actor_class: Any, options: dict[str, Any], init: dict[str, Any], count: int,
                 slots: int, stats: Any, start_timeout: float, room: Any) -> None:
        self._ray, self._class, self._options, self._init = ray, actor_class, options, init
        self.slots, self.stats, self._start_timeout, self._room = slots, stats, start_timeout, room
        self._cond = threading.Condition()
        self._packages: dict[tuple[Path, tuple[tuple[Path, str], ...]], tuple[str, Any]] = {}
        self._shipped: OrderedDict[int, tuple[Problem, tuple[str, Any, Any]]] = OrderedDict()
        self._next = 0
        self.replacements = 0
        self._starting = 0
        self.bytes_put = 0
        self.actors: list[_Actor] = []
        self.on_close: Any = None
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pack_lock = threading.Lock()  # one thread packs a package; the others wait for its name and ref
        # submit(): submissions waiting for a sender, and the senders (one per slot, started on first use)
        self._waiting: deque[_Waiting] = deque()
        self._queue_cond = threading.Condition()
        self._senders: list[threading.Thread] = []
        self.isolation_note = ""
        self.compiles = init.get("compiles")  # the pool's compile registry actor (None: compiles stay per node)
        handles = [self._spawn() for _ in range(count)]
        try:
            wheres = ray.get([h.handle.where.remote() for h in handles], timeout=start_timeout)
        except Exception:  # one cannot start: end them all, or they hold the cluster's CPUs until we exit
            for h in handles:
                with contextlib.suppress(Exception):
                    ray.kill(h.handle, no_restart=True)
            raise
        for actor, where in zip(handles, wheres, strict=True):
            actor.where = where
        self.actors = handles

    # -- actors ------------------------------------------------------------------------------------------
    def _spawn(self) -> _Actor:
        self._next += 1
        return _Actor(self._class.options(**self._options).remote(**self._init), self._next)

    @property
    def workers(self) -> int:
        """Submissions this pool judges at once (live actors x slots)."""
        return max(1, sum(a.alive for a in self.actors)) * self.slots

    def compile_stats(self) -> dict[str, Any] | None:
        """What the pool's compile registry holds and did (:meth:`~..backends.ray.compiles.CompileRegistry.state`),
        or None without one."""
        if self.compiles is None:
            return None
        return dict(self._ray.get(self.compiles.state.remote(), timeout=self._start_timeout))

    @property
    def info(self) -> dict[str, Any] | None:
        """The first live actor's box description (its tools, isolation), as ``where()`` returned it."""
        return next((a.where.get("info") for a in self.actors if a.alive), None)

    def alive(self) -> tuple[int, int]:
        """(live actors, actors started and not lost), for the progress line."""
        live = sum(a.alive for a in self.actors)
        return live, live + self._starting

    def _acquire(self, wait_s: float) -> _Actor | None:
        deadline = time.monotonic() + wait_s
        with self._cond:
            while True:
                free = [a for a in self.actors if a.alive and a.busy < self.slots]
                if free:
                    actor = min(free, key=lambda a: a.busy)
                    actor.busy += 1
                    self.stats.in_flight += 1
                    return actor
                if self._closed.is_set():
                    return None
                if any(a.alive for a in self.actors):
                    # Every slot busy: wait for one however long judging takes (a busy pool is no fault).
                    deadline = time.monotonic() + wait_s
                    self._cond.wait(1.0)
                    continue
                if not self._starting:
                    return None
                left = deadline - time.monotonic()  # no live actor, some starting: wait for them, not forever
                if left <= 0:
                    return None
                self._cond.wait(min(left, 1.0))

    def _release(self, actor: _Actor) -> None:
        with self._cond:
            actor.busy -= 1
            self.stats.in_flight -= 1
            self._cond.notify_all()

    def _lose(self, actor: _Actor, cause: str) -> None:
        """Mark ``actor`` lost (once), end it, and start a replacement in the background where there is room."""
        with self._cond:
            if not actor.alive:
                return
            actor.alive = False
            self._starting += 1
            self.stats.broken += 1
            self.stats.causes.append(cause)
        with contextlib.suppress(Exception):
            self._ray.kill(actor.handle, no_restart=True)
        thread = threading.Thread(target=self._replace, name="ioi-ray-replace", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _replace(self) -> None:
        """Start a fresh actor once some node has room for it (a killed actor's CPUs come back within a second
        or so; a lost node's never do), unless the pool closes first; else go on with the actors left."""
        fresh = None
        deadline = time.monotonic() + ROOM_WAIT_S
        try:
            while not self._closed.is_set() and not self._room():
                if time.monotonic() > deadline:
                    raise TimeoutError("no node has room for a replacement actor")
                self._closed.wait(0.2)
            if not self._closed.is_set():
                fresh = self._spawn()
                fresh.where = self._ray.get(fresh.handle.where.remote(), timeout=self._start_timeout)
        except Exception:  # no room, or it failed to start: the pool goes on with the actors it has
            if fresh is not None:
                with contextlib.suppress(Exception):
                    self._ray.kill(fresh.handle, no_restart=True)
            fresh = None
        with self._cond:
            self._starting -= 1
            if fresh is not None and self._closed.is_set():  # closed meanwhile: end it at once
                with contextlib.suppress(Exception):
                    self._ray.kill(fresh.handle, no_restart=True)
            elif fresh is not None:
                self.actors.append(fresh)
                self.replacements += 1
            self._cond.notify_all()

    def _cause(self, actor: _Actor, exc: Exception) -> str:
        from ..backends.ray.channel import _first_line
        from ..backends.ray.cluster import alive_nodes

        node = actor.where.get("node_id")
        where = f" on node {node[:12]} ({actor.where.get('host')}, pid {actor.where.get('pid')})" if node else ""
        try:
            gone = node is not None and node not in alive_nodes(self._ray)
        except Exception:
            gone = False
        what = "its node left the cluster" if gone else "the actor's process died"
        return f"ray actor{where}: {what} ({type(exc).__name__}: {_first_line(exc)})"

    # -- shipping ------------------------------------------------------------------------------------------
    def _package(self, root: Path, outside: dict[Path, str]) -> tuple[str, Any]:
        key = (root, tuple(sorted(outside.items())))
        got = self._packages.get(key)
        if got is not None:
            return got
        with self._pack_lock:  # packed once, not by every thread that meets the problem first at once
            got = self._packages.get(key)
            if got is None:
                name, data = pack_problem(root, outside)
                got = (name, self._ray.put(data))
                with self._cond:
                    self._packages[key] = got
                    self.bytes_put += len(data)
        return got

    def _ship(self, problem: Problem) -> tuple[str, Any, Any]:
        """(package name, package ref, problem ref) of ``problem``, each put into the object store once: the
        files it names outside its folder go in its package, and the problem sent names their places there."""
        with self._cond:
            got = self._shipped.get(id(problem))
            if got is not None and got[0] is problem:
                self._shipped.move_to_end(id(problem))
                return got[1]
        outside = outside_files(problem)
        name, package_ref = self._package(problem.root, outside)
        moves = {path: problem.root / place for path, place in outside.items()}
        sent = map_paths(problem, lambda p: moves.get(_normal(p), p)) if moves else problem
        shipment = (name, package_ref, self._ray.put(sent))
        with self._cond:
            self._shipped[id(problem)] = (problem, shipment)  # holding the problem keeps its id unique
            while len(self._shipped) > PROBLEM_REFS:
                self._shipped.popitem(last=False)
        return shipment

    # -- judging -------------------------------------------------------------------------------------------
    def judge(self, problem: Problem, submission: Any, skip: bool = True,
              parallel: int | None = None) -> ReportText | str:
        """Judge one submission on an actor (at most ``parallel`` of its tests at once); retried once on another
        actor when the first is lost: its report (as the actor's JSON, unparsed), or (both lost) the causes, for a
        report of SE results. An error of the judge itself (not of Ray) is a :class:`BoxRequestError`."""
        got = self.judge_chunk([(problem, submission)], skip, parallel)[0]
        if isinstance(got, BoxRequestError):
            raise got
        return got

    def judge_chunk(self, items: list[tuple[Problem, Any]], skip: bool = True, parallel: int | None = None
                    ) -> list[ReportText | str | BoxRequestError]:
        """Judge submissions in one actor call (judged one after another there, each with at most ``parallel``
        tests at once): for each, its report (the actor's JSON with its facts, parsed only when read), the causes
        (the call was lost twice: for a report of SE results), or the judge's own error. A lost call is retried
        once, whole, on another actor."""
        ray = self._ray
        problems: list[tuple[str, Any, Any]] = []  # each distinct problem once: its refs travel once per call
        index: dict[int, tuple[int, float]] = {}  # id(problem) -> (its index in problems, its tests' wall budget)
        jobs = []
        budget = SUBMISSION_TIMEOUT_S
        for problem, submission in items:
            got = index.get(id(problem))
            if got is None:
                problems.append(self._ship(problem))
                got = index[id(problem)] = (len(problems) - 1, len(problem.tests) * (3 * problem.time_limit + 1))
            jobs.append((got[0], _wire(submission)))
            budget += got[1]
        causes: list[str] = []
        for _attempt in range(2):
            actor = self._acquire(self._start_timeout)
            if actor is None:
                causes.append("no live judge actor left in the Ray cluster")
                break
            try:
                answers = ray.get(actor.handle.judge_submissions.remote(problems, jobs, skip, parallel),
                                  timeout=budget)
            except ray.exceptions.GetTimeoutError:
                cause = f"ray actor {actor.where.get('pid')}: no report within {budget:g} s (the actor hangs)"
                causes.append(cause)
                self._lose(actor, cause)
                continue
            except ray.exceptions.RayActorError as exc:
                cause = self._cause(actor, exc)
                causes.append(cause)
                self._lose(actor, cause)
                continue
            except ray.exceptions.RayError as exc:  # the object was lost with its node, the worker crashed...
                from ..backends.ray.channel import _first_line

                cause = f"{type(exc).__name__}: {_first_line(exc)}"
                causes.append(cause)
                self._lose(actor, cause)
                continue
            finally:
                self._release(actor)
            with self.stats.lock:
                self.stats.results += len(answers)
            return [BoxRequestError(f"judge actor {actor.where.get('pid')}: {error}") if error
                    else _text(data, summary) for data, error, summary in answers]
        cause = "; then ".join(causes) or "not judged"
        return [cause] * len(items)

    def submit(self, problem: Problem, submission: Any, skip: bool = True,
               convert: Callable[[ReportText | str], Any] = lambda got: got) -> Future:
        """Queue one submission; the future gets ``convert(its report or, lost twice, the causes)``, or the
        judge's own error (:class:`BoxRequestError`). One sender per slot takes what waits, up to
        :func:`chunk_size` submissions per actor call: where the driver is the limit (many waiting), it makes
        one Ray call per chunk instead of one per submission. Callbacks of the future run in a sender."""
        fut: Future = Future()
        with self._queue_cond:
            if self._closed.is_set():
                raise BoxRequestError("the Ray judge is closed")
            self._waiting.append(_Waiting(problem, submission, skip, convert, fut))
            if not self._senders:  # one per slot: each holds at most one call (replacements keep the count)
                self._senders = [threading.Thread(target=self._send, name="ioi-ray-send", daemon=True)
                                 for _ in range(self.workers)]
                for thread in self._senders:
                    thread.start()
            self._queue_cond.notify()
        return fut

    def _send(self) -> None:
        """A sender: take waiting submissions (one problem's ``skip`` at a time), judge them in one call, hand
        each its result; until the pool closes."""
        while True:
            with self._queue_cond:
                while not self._waiting and not self._closed.is_set():
                    self._queue_cond.wait()
                if not self._waiting:
                    return
                size = chunk_size(len(self._waiting), len(self._senders))
                batch = [self._waiting.popleft()]
                while self._waiting and len(batch) < size and self._waiting[0].skip == batch[0].skip:
                    batch.append(self._waiting.popleft())
            try:
                answers: list[Any] = self.judge_chunk([(w.problem, w.submission) for w in batch], batch[0].skip)
            except Exception as exc:  # a bug or a failure outside Ray's: every future learns it, none hangs
                answers = [exc] * len(batch)
            for waiting, got in zip(batch, answers, strict=True):
                try:
                    if isinstance(got, BaseException):
                        raise got
                    waiting.future.set_result(waiting.convert(got))
                except Exception as exc:
                    waiting.future.set_exception(exc)

    def close(self) -> None:
        """Close every live actor's box, then end the actors. Submissions still waiting get an error."""
        if self.on_close is not None:
            self.on_close()
        with self._queue_cond:
            self._closed.set()
            left, self._waiting = list(self._waiting), deque()
            self._queue_cond.notify_all()
        for waiting in left:
            waiting.future.set_exception(BoxRequestError("the Ray judge was closed before judging it"))
        for thread in self._threads:  # nothing of this pool calls Ray after it is closed
            thread.join(self._start_timeout)
        live = [a for a in self.actors if a.alive]
        refs = [a.handle.shutdown.remote() for a in live]
        with contextlib.suppress(Exception):
            self._ray.get(refs, timeout=30)
        for a in self.actors:
            a.alive = False
            with contextlib.suppress(Exception):
                self._ray.kill(a.handle, no_restart=True)
        if self.compiles is not None:  # its programs leave the object store with it
            with contextlib.suppress(Exception):
                self._ray.kill(self.compiles, no_restart=True)


def _wire(submission: Any) -> Any:
    """A submission as plain values (Ray sends those without pickling a dataclass: a tenth of the driver's
    time per call); anything else as is."""
    if isinstance(submission, Submission):
        return (submission.name, submission.language, submission.source, submission.outputs)
    return submission


def _text(data: bytes, summary: Any) -> ReportText:
    """An actor's answer as a :class:`ReportText` (Ray may hand tuples back as lists)."""
    score, max_score, system_error = summary
    return ReportText(data.decode(), score, max_score, tuple(system_error) if system_error else None)


def open_pool(ray: Any, judge_class: Any, box: str, slots: int, count: int, image: str | None, cpus: float,
              canned: bytes | None, stats: Any, start_timeout: float, room: Any,
              judge_options: dict[str, Any] | None = None, limiter: Any = None,
              actor_options: dict[str, Any] | None = None) -> SubmissionPool:
    """Start ``count`` judge actors (spread, no restarts, no task retries) and wait until each has its box.
    ``judge_options`` go to each actor's ``Judge`` (the driver's judge profile, whether to use the cache).
    ``room()`` says whether some node has the CPUs for a replacement actor now. ``limiter`` (``box="e2b"``) is
    the cluster's E2B limiter; ``actor_options`` add Ray options (the E2B settings' environment). Unless the
    actors are canned or use no cache, a compile registry (:mod:`..backends.ray.compiles`) is started for the pool
    and ends with it: each source is compiled once in the cluster."""
    actor_class = ray.remote(JudgeActor)
    options = {"num_cpus": cpus, "scheduling_strategy": "SPREAD", "max_restarts": 0, "max_task_retries": 0,
               "max_concurrency": slots + 2,  # its submissions, plus where() and shutdown()
               **(actor_options or {})}
    compiles = None
    if canned is None and (judge_options or {}).get("use_cache", True):
        compiles = open_registry(ray, f"ioi-eval-compiles-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    init = {"judge_class": judge_class, "box": box, "slots": slots, "image": image, "canned": canned,
            "judge_options": judge_options, "limiter": limiter, "compiles": compiles}
    try:
        return SubmissionPool(ray, actor_class, options, init, count, slots, stats, start_timeout, room)
    except Exception as exc:
        if compiles is not None:
            with contextlib.suppress(Exception):
                ray.kill(compiles, no_restart=True)
        raise RayClusterError(f"cannot start the judge actors ({count} x {slots} CPUs, within "
                              f"{start_timeout:g} s): {type(exc).__name__}: {exc}") from None
