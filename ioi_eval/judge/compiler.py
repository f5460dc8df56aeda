"""Compiling inside the box, with a content-addressed compile cache and a precompiled header.

The cache key covers everything that can change the product: the language and toolchain version,
the flags, and the name and content of every file bound into the compile (submission, graders,
headers). An identical submission therefore never compiles twice, across runs and processes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ioi_box.protocol import Batch, Limits, Proc, ProcStatus, RunJob

from ..backends.base import Box
from ..cache import atomic_dir, cache_root
from ..errors import JudgeError
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
        for part in (self.language, version, "\0".join(self.flags), "\0".join(self.compiled), self.main):
            h.update(part.encode())
            h.update(b"\1")
        for name, data in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return h.hexdigest()


class Compiler:
    """Compiles units in a box, through the cache."""

    def __init__(self, box: Box, cache_dir: Path | None = None, use_cache: bool = True,
                 use_pch: bool = True) -> None:
        self.box = box
        self.cache_dir = cache_dir or cache_root()
        self.use_cache = use_cache
        self.use_pch = use_pch
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

    def _save(self, key: str, res: CompileResult, prog: bytes | None) -> None:
        if not self.use_cache:
            return
        try:
            self._write_entry(key, res, prog)
        except OSError as exc:  # a full or read-only disk costs a recompile later, never the result
            warnings.warn(f"compile cache {self.cache_dir}: cannot store an entry ({exc.strerror})", stacklevel=2)

    def _write_entry(self, key: str, res: CompileResult, prog: bytes | None) -> None:
        with atomic_dir(self._entry(key)) as tmp:  # a concurrent compile of the same unit may win the race
            if prog is not None:
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
            try:
                built = lang.build_pch(flags, self.cache_dir / "pch")
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
        """Compile (or fetch from the cache); CE is a result, a box failure raises JudgeError."""
        lang = get_language(unit.language)
        key = unit.key(self._version(lang))
        hit = self._load(key)
        if hit is not None:
            res, prog = hit
            return res, self._program(unit, lang, prog) if res.ok else None
        res, prog_bytes, blob = self._compile_in_box(unit, lang)
        self._save(key, res, prog_bytes)
        if not res.ok:
            return res, None
        return res, self._program(unit, lang, None, blob)

    def _program(self, unit: CompileUnit, lang: Language, prog: Path | None, blob: str | None = None) -> Program:
        if not lang.builds_program:  # the sources run as they are
            files = {f"/box/{name}": self.box.put_bytes(data) for name, data in unit.files}
            return Program(argv=lang.run_command(f"/box/{unit.main}"), files=files)
        if blob is None:
            assert prog is not None
            blob = self.box.put_file(prog, executable=True)
        return Program(argv=lang.run_command(PROGRAM), files={PROGRAM: blob})

    def _compile_in_box(self, unit: CompileUnit, lang: Language) -> tuple[CompileResult, bytes | None, str | None]:
        binds = {f"/src/{name}": self.box.put_bytes(data) for name, data in unit.files}
        include = ["/src"]
        if lang.pch_header is not None and self.use_pch:
            if self.box.info.pch_include:  # a box may ship its own (the judge image does)
                include.insert(0, self.box.info.pch_include)
            elif pch := self._pch(lang, unit.flags):
                binds[f"/pch/{lang.pch_header}"] = pch
                include.insert(0, "/pch")
        # The box names its own compiler (the host may have none, or another one).
        argv = lang.compile_command([f"/src/{n}" for n in unit.compiled], PROGRAM, unit.flags, include,
                                    self.box.info.compilers.get(lang.name))
        work = self.box.new_dir()
        log = f"{work}/compile.log"
        limits = TRUSTED_LIMITS if unit.trusted else UNTRUSTED_LIMITS
        proc = Proc(argv=[*argv, *unit.extra_argv], binds=binds, rw_binds={"/box": work}, stdout=log,
                    stderr=log, capture_stderr=MESSAGE_CAP, limits=limits)
        try:
            result = self.box.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0]
            if result.error:
                raise JudgeError(f"compilation could not run: {result.error}")
            pr = result.procs[0]
            message = pr.stderr.strip()
            if len(message) >= MESSAGE_CAP - 1:
                message += "\n[compiler output truncated]"
            base = {"cpu_s": pr.cpu_s, "wall_s": pr.wall_s}
            if pr.status == ProcStatus.XX:
                raise JudgeError(f"compilation could not run: {pr.message}")
            if pr.status != ProcStatus.OK:
                why = {
                    ProcStatus.TLE_CPU: "Compilation timed out",
                    ProcStatus.TLE_WALL: "Compilation timed out (wall clock)",
                    ProcStatus.MLE: "Compilation exceeded the memory limit",
                    ProcStatus.OLE: "Compilation output too large",
                    ProcStatus.SG: f"Compiler killed by signal {pr.signal}",
                }.get(pr.status, "Compilation failed")
                return CompileResult(ok=False, message=f"{why}\n{message}".strip(), **base), None, None
            if not lang.builds_program:
                return CompileResult(ok=True, message=message, **base), b"", None
            blob = self.box.promote(f"{work}/{PROGRAM_NAME}", executable=True)
            data = self.box.read_bytes(blob)
            return CompileResult(ok=True, message=message, **base), data, blob
        finally:
            self.box.remove([work])
