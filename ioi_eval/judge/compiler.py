"""Compiling inside the box, with a content-addressed compile cache and a precompiled header.

The cache key covers everything that can change the product: the language and toolchain version,
the flags, and the name and content of every file bound into the compile (submission, graders,
headers). An identical submission therefore never compiles twice, across runs and processes.

Behind the local cache there may be a shared tier (:class:`SharedCompiles`: the Ray backend's cluster-wide
registry, :mod:`ioi_eval.backends.ray.compiles`): on a local miss the compiler asks it, and a program another
machine compiled lands in the local cache as if compiled here. The compiler knows only this protocol.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from ioi_box.protocol import Batch, Limits, Proc, ProcResult, ProcStatus, RunJob

from ..backends.base import Box
from ..cache import atomic_dir, cache_root
from ..errors import BoxLostError, JudgeError
from .languages import Language, Program, get_language
from .results import CompileResult

MESSAGE_CAP = 64 << 10
UNTRUSTED_LIMITS = Limits(cpu_s=20, wall_s=41, memory_bytes=1 << 30, output_bytes=256 << 20, processes=64,
                          tmp_bytes=512 << 20)
TRUSTED_LIMITS = Limits(cpu_s=60, wall_s=121, memory_bytes=2 << 30, output_bytes=256 << 20, processes=64,
                        tmp_bytes=512 << 20)
PROGRAM_NAME = "prog"
PROGRAM = f"/box/{PROGRAM_NAME}"  # where a built program is written, and bound when it runs


@dataclass(frozen=True)
class CompileUnit:
    """What to compile: files by their name under ``/src``, which of them are compiled, flags."""

    language: str
    files: tuple[tuple[str, bytes], ...]  # (name, content); all bound read-only in /src
    compiled: tuple[str, ...]  # names of files passed to the compile command
    main: str  # the file started at run time where the sources run as they are (Python); else unused
    flags: tuple[str, ...] = ()
    trusted: bool = False
    extra_argv: tuple[str, ...] = field(default=())

    def key(self, version: str) -> str:
        """The content address of this compile."""
        h = hashlib.sha256()
        # extra_argv counts only when there is some, so that the keys of every other unit stay as they were
        extra = ("\0".join(self.extra_argv),) if self.extra_argv else ()
        for part in (self.language, version, "\0".join(self.flags), "\0".join(self.compiled), self.main, *extra):
            h.update(part.encode())
            h.update(b"\1")
        for name, data in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()


class SharedCompiles(Protocol):
    """A compile cache shared beyond this machine, asked after the local one missed (a cluster's registry).

    :meth:`fetch` answers with another machine's entry, or None: then the caller compiles the unit itself and
    ends with exactly one of :meth:`offer` (an entry the local cache keeps too) or :meth:`drop` (nothing to
    share: a transient failure, a CE cut by a limit). While one caller compiles a key, another's :meth:`fetch` of
    it may wait for that caller's entry instead of compiling too. Failures of the tier itself never raise: they
    cost a compile.
    """

    def fetch(self, key: str) -> tuple[str, bytes | None] | None:
        """The entry for ``key`` (the result's JSON, the program's bytes or None for a CE), or None: compile it."""
        ...

    def offer(self, key: str, result: str, program: bytes | None) -> None:
        """Share the entry just compiled for ``key`` (and give up its claim)."""
        ...

    def drop(self, key: str) -> None:
        """Give up the claim on ``key`` without an entry: another caller may compile it."""
        ...


class Compiler:
    """Compiles units in a box, through the cache (and ``shared``, a tier behind it: :class:`SharedCompiles`)."""

    def __init__(self, box: Box, cache_dir: Path | None = None, use_cache: bool = True,
                 use_pch: bool = True, shared: SharedCompiles | None = None) -> None:
        self.box = box
        self.cache_dir = cache_dir or cache_root()
        self.use_cache = use_cache
        self.use_pch = use_pch
        self.shared = shared if use_cache else None  # no cache: every compile runs, none is shared
        self._pch_blobs: dict[str, str] = {}  # language -> blob of its precompiled header
        self._pch_lock = threading.Lock()
        self._pch_failed = False

    # -- cache -------------------------------------------------------------------------------
    def _entry(self, key: str) -> Path:
        return self.cache_dir / "compile" / key[:2] / key

    def _load(self, key: str) -> tuple[CompileResult, Path | None] | None:
        entry = self._entry(key)
        meta = entry / "result.json"
        if not self.use_cache or not meta.is_file():
            return None
        try:
            res = CompileResult.model_validate_json(meta.read_text())
        except ValueError:
            return None
        prog = entry / "prog"
        if res.ok and not prog.is_file():
            return None
        res.cached = True
        return res, prog if res.ok else None

    def _save(self, key: str, res: CompileResult, prog: bytes | Path | None) -> None:
        if not self.use_cache:
            return
        try:
            self._write_entry(key, res, prog)
        except OSError as exc:  # a full or read-only disk costs a recompile later, never the result
            warnings.warn(f"compile cache {self.cache_dir}: cannot store an entry ({exc.strerror})", stacklevel=2)

    def _write_entry(self, key: str, res: CompileResult, prog: bytes | Path | None) -> None:
        """``prog``: the program's bytes, or its file on this machine (the box's blob: linked, not copied)."""
        with atomic_dir(self._entry(key)) as tmp:  # a concurrent compile of the same unit may win the race
            if isinstance(prog, Path):
                _link_or_copy(prog, tmp / "prog")
            elif prog is not None:
                (tmp / "prog").write_bytes(prog)
                os.chmod(tmp / "prog", 0o755)
            (tmp / "result.json").write_text(res.model_dump_json())

    # -- precompiled header ---------------------------------------------------------------------
    def _pch(self, lang: Language, flags: tuple[str, ...]) -> str | None:
        """Blob path of the language's precompiled header built on this host, or None if unavailable."""
        if not self.use_pch or self._pch_failed:
            return None
        with self._pch_lock:
            if lang.name in self._pch_blobs:
                return self._pch_blobs[lang.name]
            # A box in this process runs this host's compilers: its toolchain line is the host compiler's version.
            known = self.box.info.tools.get(lang.name) if self.box.host_root is not None else None
            try:
                built = lang.build_pch(flags, self.cache_dir / "pch", known)
            except (OSError, subprocess.SubprocessError, JudgeError):
                self._pch_failed = True  # compiling without it is only slower
                return None
            blob = self._pch_blobs[lang.name] = self.box.put_file(built)
            return blob

    def _version(self, lang: Language) -> str:
        """The toolchain version of the box (as it describes itself), for the cache key."""
        return self.box.info.tools.get(lang.name) or lang.version()

    # -- compile -------------------------------------------------------------------------------
    def compile(self, unit: CompileUnit) -> tuple[CompileResult, Program | None]:
        """Compile (or fetch from the cache); CE is a result, a box failure raises JudgeError.

        A compile that ended for a reason outside the unit (:func:`transient_cause`: killed from outside, the
        host out of memory or disk, a loaded machine, a box that failed to set up) is tried once more, then
        raises JudgeError naming the cause: never a CE, never cached. Only a compile that ran to completion
        with the compiler's own exit status is cached; one stopped by a limit of ours is a CE, not cached.
        """
        lang = get_language(unit.language)
        version = self._version(lang)
        # A faster linker where the compile runs on this host (its compilers are the box's); part of the key.
        link = lang.link_flags(version) if self.box.host_root is not None else ()
        key = unit.key("\0".join((version, *link)))
        hit = self._load(key)
        if hit is not None:
            res, prog = hit
            return res, self._program(unit, lang, prog) if res.ok else None
        if self.shared is not None and (entry := self.shared.fetch(key)) is not None:
            adopted = self._adopt(unit, lang, key, *entry)
            if adopted is not None:
                return adopted
        offered = False
        try:
            causes: list[str] = []
            for _ in range(COMPILE_TRIES):
                try:
                    res, product, blob, completed = self._compile_in_box(unit, lang, link)
                except _Transient as exc:
                    causes.append(str(exc))
                    continue
                if completed:  # what the local cache keeps is what the tier shares: a transient failure neither
                    self._save(key, res, product)
                    if self.shared is not None:
                        data = product.read_bytes() if isinstance(product, Path) else product
                        self.shared.offer(key, res.model_dump_json(), data)
                        offered = True
                if not res.ok:
                    return res, None
                return res, self._program(unit, lang, None, blob)
            raise JudgeError(f"compilation failed {len(causes)} times for a reason outside the submission: "
                             + "; then ".join(dict.fromkeys(causes)))
        finally:
            if self.shared is not None and not offered:
                self.shared.drop(key)

    def _adopt(self, unit: CompileUnit, lang: Language, key: str, result: str,
               program: bytes | None) -> tuple[CompileResult, Program | None] | None:
        """An entry of the shared tier, kept in the local cache and used as a hit of it; None when it is unusable
        (then the unit is compiled here)."""
        try:
            res = CompileResult.model_validate_json(result)
        except ValueError:
            return None
        if res.ok and program is None:
            return None
        self._save(key, res, program)
        res.cached = True
        if not res.ok:
            return res, None
        hit = self._load(key)
        if hit is not None:
            return hit[0], self._program(unit, lang, hit[1])
        # not kept here (a full or read-only disk): the program goes into the box from memory
        blob = self.box.put_bytes(program, executable=True) if lang.builds_program and program is not None else None
        return res, self._program(unit, lang, None, blob)

    def _program(self, unit: CompileUnit, lang: Language, prog: Path | None, blob: str | None = None) -> Program:
        if not lang.builds_program:  # the sources run as they are
            files = {f"/box/{name}": self.box.put_bytes(data) for name, data in unit.files}
            return Program(argv=lang.run_command(f"/box/{unit.main}"), files=files)
        if blob is None:
            assert prog is not None
            blob = self.box.put_file(prog, executable=True)
        return Program(argv=lang.run_command(PROGRAM), files={PROGRAM: blob})

    def _compile_in_box(self, unit: CompileUnit, lang: Language, link: tuple[str, ...] = (),
                        ) -> tuple[CompileResult, bytes | Path | None, str | None, bool]:
        """One compile in the box: (result, the program for the cache, its blob, whether it ran to completion).

        ``link``: flags that pick the linker (:meth:`Language.link_flags`), after the unit's own.

        The program for the cache is its blob's file where the box runs on this machine, else its bytes.

        Raises :class:`_Transient` when it ended for a reason outside the unit.
        """
        try:
            binds = {f"/src/{name}": self.box.put_bytes(data) for name, data in unit.files}
        except OSError as exc:
            _raise_if_host_full(exc)
            raise
        include = ["/src"]
        if lang.pch_header is not None and self.use_pch:
            if self.box.info.pch_include:  # a box may ship its own (the judge image does)
                include.insert(0, self.box.info.pch_include)
            elif pch := self._pch(lang, unit.flags):
                binds[f"/pch/{lang.pch_header}"] = pch
                include.insert(0, "/pch")
        # The box names its own compiler (the host may have none, or another one).
        argv = lang.compile_command([f"/src/{n}" for n in unit.compiled], PROGRAM, (*unit.flags, *link), include,
                                    self.box.info.compilers.get(lang.name))
        limits = TRUSTED_LIMITS if unit.trusted else UNTRUSTED_LIMITS
        work: str | None = None
        try:
            work = self.box.new_dir()
            log = f"{work}/compile.log"
            proc = Proc(argv=[*argv, *unit.extra_argv], binds=binds, rw_binds={"/box": work}, stdout=log,
                        stderr=log, capture_stderr=MESSAGE_CAP, limits=limits)
            result = self.box.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0]
            if result.error:
                raise _Transient(f"the box could not run the compile: {result.error}")
            pr = result.procs[0]
            cause = transient_cause(pr, limits)
            if cause is not None:
                raise _Transient(cause)
            message = pr.stderr.strip()
            if len(message) >= MESSAGE_CAP - 1:
                message += "\n[compiler output truncated]"
            base = {"cpu_s": pr.cpu_s, "wall_s": pr.wall_s}
            if pr.status != ProcStatus.OK:
                why = {
                    ProcStatus.TLE_CPU: "Compilation timed out",
                    ProcStatus.MLE: "Compilation exceeded the memory limit",
                    ProcStatus.OLE: "Compilation output too large",
                }.get(pr.status, "Compilation failed")
                # A limit of ours stopped it: a CE, but one a later compile on an idle machine could pass.
                completed = pr.status == ProcStatus.RE and not any(m in pr.stderr for m in HOST_TROUBLE)
                return CompileResult(ok=False, message=f"{why}\n{message}".strip(), **base), None, None, completed
            if not lang.builds_program:
                return CompileResult(ok=True, message=message, **base), b"", None, True
            try:
                blob = self.box.promote(f"{work}/{PROGRAM_NAME}", executable=True)
                here = self.box.host_root
                product = here / blob if here is not None else self.box.read_bytes(blob)
            except BoxLostError as exc:  # the remote box died between the compile and fetching its program
                raise _Transient(str(exc)) from None
            return CompileResult(ok=True, message=message, **base), product, blob, True
        except OSError as exc:
            _raise_if_host_full(exc)
            raise
        finally:
            if work is not None:
                self.box.remove([work])


COMPILE_TRIES = 2  # a compile that failed for a reason outside the unit is tried once more
#: What a compiler prints when the host's disk is full (whatever the unit): never the submission's fault.
DISK_FULL = ("No space left on device", "Disk quota exceeded")
#: What a compiler prints when it, or a process it started, ran out of memory or was killed. Within the compile's
#: memory limit these mean the host: its memory, or someone killing the compiler's children.
HOST_TROUBLE = ("Cannot allocate memory", "virtual memory exhausted", "out of memory allocating",
                "Killed signal terminated program", "internal compiler error: Killed")


def _link_or_copy(src: Path, dst: Path) -> None:
    """``src`` (an executable blob, never written again) at ``dst``: a hard link where the file system allows one."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o755)


class _Transient(Exception):
    """A compile that ended for a reason outside the unit; the message names the cause."""


def _raise_if_host_full(exc: OSError) -> None:
    if exc.errno in (errno.ENOSPC, errno.ENOMEM, errno.EDQUOT):
        raise _Transient(f"the host is out of {'memory' if exc.errno == errno.ENOMEM else 'disk space'}: "
                         f"{exc}") from exc


def transient_cause(pr: ProcResult, limits: Limits) -> str | None:
    """Why a compile's end says nothing about the unit compiled, or None where it does.

    The compiler killed by a signal that no limit of ours explains (from outside), a wall-clock timeout with CPU
    time to spare (a loaded machine), the box failing to set the run up, or the compiler's own message telling of
    a full disk, or of memory trouble or killed children while its tree stayed under half the memory limit and
    under the CPU limit (the host, not the unit), or bubblewrap's own error (the box could not be set up).
    """
    if pr.status == ProcStatus.XX:
        return f"the box failed to set up the compile: {pr.message}"
    if pr.status == ProcStatus.SG:
        return f"the compiler was killed from outside (signal {pr.signal}), no limit of ours explains it"
    if pr.status == ProcStatus.TLE_WALL and (not limits.cpu_s or pr.cpu_s < limits.cpu_s):
        return (f"the compile ran out of wall-clock time ({pr.wall_s:.1f} s) with only {pr.cpu_s:.1f} s of CPU time "
                "(a loaded machine)")
    if pr.status != ProcStatus.RE:
        return None
    text = pr.stderr
    # bubblewrap's own errors start their line with "bwrap: " (a diagnostic of the compiler never does: it starts
    # with a file name, or quotes source lines indented): the box could not be set up, e.g. an unreachable root.
    if setup := next((line for line in text.splitlines() if line.startswith("bwrap: ")), None):
        return f"the sandbox failed to set up the compile ({setup})"
    if full := next((m for m in DISK_FULL if m in text), None):
        return f"the host is out of disk space (the compiler says {full!r})"
    near_limit = ((limits.memory_bytes and pr.memory_bytes * 2 >= limits.memory_bytes)
                  or (limits.cpu_s and pr.cpu_s >= 0.9 * limits.cpu_s))
    if not near_limit and (trouble := next((m for m in HOST_TROUBLE if m in text), None)):
        return (f"the compiler ran out of memory or lost a process under the limits (it says {trouble!r}): "
                "the host's memory, or a kill from outside")
    return None
