"""Languages: how a submission is named, compiled and started inside the box.

A :class:`Language` owns everything the judge needs to know about it, as CMS's languages do
(``get_compilation_commands`` / ``get_evaluation_commands``): the name a source gets in the box
(:meth:`~Language.source_name`), the compile command (:meth:`~Language.compile_command`), the
command that starts the result (:meth:`~Language.run_command`), and whether the compile builds a
program (C++) or only checks sources that then run as they are (Python). The compiler
(:mod:`ioi_eval.judge.compiler`) only asks these questions; :data:`LANGUAGES` is the one list of
names. Sources are bound read-only under ``/src``; the compile writes into ``/box`` (a scratch
folder).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ioi_box import ownership
from ioi_box.children import run_tied

from ..cache import held_lock, remembered
from ..errors import JudgeError

CPP_FLAGS = ("-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-static", "-s")
TRUSTED_CPP_FLAGS = ("-std=gnu++17", "-O2", "-pipe", "-static", "-s")
PYTHON = "/usr/bin/python3"
#: Linkers that link the same static program as g++'s default (ld.bfd) in a fraction of its time, best first: the
#: name ``-fuse-ld=`` takes and the executable g++ then runs (Debian: lld; gold comes with binutils up to Debian 12).
FAST_LINKERS = (("lld", "/usr/bin/ld.lld"), ("gold", "/usr/bin/ld.gold"))
LINKER_ENV = "IOI_EVAL_LINKER"  # lld, gold, or default (g++'s own); unset: the first of FAST_LINKERS installed
PCH_TEMP_SUFFIX = ".gch.tmp"  # a precompiled header being written (ownership.held_temp)
PCH_BUILD_LOCK = ".build.lock"  # held (flock) by the one process building a folder's precompiled header
PCH_BUILD_LOG = "builds.log"  # one line per build of a folder's header: host, pid, seconds


@dataclass(frozen=True)
class Program:
    """A runnable program inside a box: the files to bind and the command line."""

    argv: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)  # inside path -> blob path


class Language(ABC):
    """A submission language (one instance per language, in :data:`LANGUAGES`)."""

    name: ClassVar[str]
    #: Source suffixes; the first is the one a source gets in the box (:meth:`source_name`).
    suffixes: ClassVar[tuple[str, ...]]
    #: Suffixes of files a compile may read besides the sources (headers); bound, never compiled.
    header_suffixes: ClassVar[tuple[str, ...]] = ()
    #: True: the compile writes a program (to ``output``) that runs alone; False: the compile only
    #: checks the sources, which then run as they are (all of a unit's files bound beside ``main``).
    builds_program: ClassVar[bool]
    #: The precompiled header the compile can use (a path under an include folder), or None.
    pch_header: ClassVar[str | None] = None
    #: Flags of a trusted compile (a package's checker or manager).
    trusted_flags: ClassVar[tuple[str, ...]] = ()
    #: Flags that compile a source without linking it (a package's grader checked on its own).
    compile_only_flags: ClassVar[tuple[str, ...]] = ()
    #: The language's name where people read it (prompts).
    display: ClassVar[str]
    #: Other names users and datasets give the language (``--language``, dataset rows), besides :attr:`name`.
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Code-fence tags that mark a block of this language in a model's answer (:attr:`name` first).
    fence_tags: ClassVar[frozenset[str]] = frozenset()
    #: Lines that tell an untagged code block is in this language (a heuristic of code extraction).
    looks_like_pattern: ClassVar[re.Pattern[str] | None] = None

    def looks_like(self, code: str) -> bool:
        """Whether untagged ``code`` looks written in this language."""
        return self.looks_like_pattern is not None and self.looks_like_pattern.search(code) is not None

    def with_header(self, code: str, header: str) -> str | None:
        """``code`` made to include the task's ``header`` where it does not yet, or None: nothing to add
        (the code has it, or the language includes no headers)."""
        return None

    def source_name(self, stem: str) -> str:
        """The file name of source ``stem`` in the box: ``<code>.cpp``, ``grader.py``..."""
        return f"{stem}{self.suffixes[0]}"

    @abstractmethod
    def version(self) -> str:
        """A string that changes whenever this host's toolchain changes (part of compile cache keys)."""

    def compile_flags(self, base: Sequence[str], defines: Sequence[str]) -> tuple[str, ...]:
        """The flags of a contestant compile: the judge profile's ``base`` flags and the problem's
        ``defines``, for a language that takes them (none by default)."""
        return ()

    def link_flags(self, version: str) -> tuple[str, ...]:
        """Flags that make this host's compiler (``version``: its version line) link the same program faster, or ()."""
        return ()

    def add_includes(self, source: bytes, task_header: str | None) -> bytes:
        """open-r1's ``add_includes`` for this language (``task_header``: the task's own header, when the
        package has one); unchanged by default."""
        return source

    @abstractmethod
    def compile_command(self, sources: Sequence[str], output: str, flags: Sequence[str] = (),
                        include_dirs: Sequence[str] = (), compiler: str | None = None) -> list[str]:
        """The compile command line (inside paths).

        ``output``: where a program-building language writes the program; ``compiler``: the box's own
        compiler (default: this host's).
        """

    @abstractmethod
    def run_command(self, main: str) -> tuple[str, ...]:
        """The command that starts ``main``: the built program, or the source file run as it is."""

    def build_pch(self, flags: Sequence[str], folder: Path, version: str | None = None) -> Path:
        """Build :attr:`pch_header` for ``flags`` with this host's compiler, under ``folder`` (kept
        there for later runs); its path. Only called for a language with a :attr:`pch_header`.

        ``version``: this host's :meth:`version`, where the caller knows it already (spares asking the compiler)."""
        raise JudgeError(f"{self.name} has no precompiled header")


def _which(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if not path:
        raise JudgeError(f"{tool} not found on PATH; install it (Debian: apt-get install {package})")
    resolved = str(Path(path).resolve())
    if not resolved.startswith("/usr/"):
        raise JudgeError(f"{tool} resolves to {resolved}, outside /usr: the sandbox only sees /usr")
    return resolved


@functools.cache
def _tool_version(exe: str) -> str:
    """The first line of ``exe --version``, remembered across processes by the executable's identity."""
    return remembered("tool-version", [Path(exe)], functools.partial(_ask_version, exe))


def _ask_version(exe: str) -> str:
    try:
        # A plain run: ``--version`` starts no compiler process, so nothing could outlive us, and tying it
        # (run_tied's supervisor) would cost every judge process about 15 ms per tool at start-up.
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise JudgeError(f"cannot run {exe} --version: {exc}") from None
    return out.splitlines()[0] if out else exe


class Cpp(Language):
    """C++17 (GNU) as CMS compiles it: ``g++ -DEVAL -std=gnu++17 -O2 -pipe -static -s``."""

    name: ClassVar[str] = "cpp"
    display: ClassVar[str] = "C++17"
    aliases: ClassVar[tuple[str, ...]] = ("c++", "cxx", "cc", "c++17", "cpp17")
    fence_tags: ClassVar[frozenset[str]] = frozenset({"cpp", "c++", "cc", "cxx", "cpp17", "c++17", "cpp14", "c++14",
                                                      "cpp11", "c++11", "cpp20", "c++20", "gnu++17", "cplusplus"})
    looks_like_pattern: ClassVar[re.Pattern[str] | None] = re.compile(
        r"^[ \t]*(?:#[ \t]*include\b|int[ \t]+main[ \t]*\(|using[ \t]+namespace[ \t]+std\b)", re.MULTILINE)
    suffixes: ClassVar[tuple[str, ...]] = (".cpp", ".cc", ".cxx", ".c++")
    header_suffixes: ClassVar[tuple[str, ...]] = (".h", ".hpp", ".hh")
    builds_program: ClassVar[bool] = True
    compile_only_flags: ClassVar[tuple[str, ...]] = ("-c",)
    pch_header: ClassVar[str | None] = "bits/stdc++.h.gch"
    trusted_flags: ClassVar[tuple[str, ...]] = TRUSTED_CPP_FLAGS

    @functools.cached_property
    def compiler(self) -> str:
        """Absolute path of this host's g++."""
        return _which("g++", "g++")

    def version(self) -> str:
        return _tool_version(self.compiler)

    def compile_flags(self, base: Sequence[str], defines: Sequence[str]) -> tuple[str, ...]:
        return (*base, *(f"-D{d}" for d in defines))

    def link_flags(self, version: str) -> tuple[str, ...]:
        """``-fuse-ld=lld`` or ``-fuse-ld=gold`` where installed (``$IOI_EVAL_LINKER`` picks one, or ``default``).

        Linking is a third of a small program's compile, and ld.bfd's static link of libstdc++ the slowest part of
        it; lld and gold link the same static program (same code and libraries, only the layout of the file differs)
        in about half the time. g++ takes ``-fuse-ld=lld`` from version 9 on; an older or another compiler keeps its
        own linker, as does a machine without either (no flag: the CMS command as it is).
        """
        choice = os.environ.get(LINKER_ENV, "").strip().lower()
        known = [name for name, _ in FAST_LINKERS]
        if choice and choice not in (*known, "default"):
            raise JudgeError(f"${LINKER_ENV}={choice!r}: expected one of {', '.join(known)}, default")
        words = version.split()
        major = words[-1].split(".")[0] if words and "g++" in words[0] else ""  # g++, g++-12, x86_64-...-g++-12
        if choice == "default" or not major.isdigit() or int(major) < 9:
            return ()
        for name, exe in FAST_LINKERS:
            if choice in ("", name) and os.access(exe, os.X_OK):
                return (f"-fuse-ld={name}",)
        return ()

    def add_includes(self, source: bytes, task_header: str | None) -> bytes:
        """``bits/stdc++.h``, the task header (unless included already), ``using namespace std``."""
        text = source.decode("utf-8", errors="surrogateescape")
        head = "#include <bits/stdc++.h>\n"
        own = f'#include "{task_header}"'
        if task_header is not None and own not in text:
            head += own + "\n"
        if "using namespace std;" not in text and "std::" not in text:
            head += "\nusing namespace std;\n\n"
        return (head + text).encode("utf-8", errors="surrogateescape")

    def with_header(self, code: str, header: str) -> str | None:
        """``#include "<header>"`` at the top, unless the code includes it already."""
        pattern = re.compile(r"^[ \t]*#[ \t]*include[ \t]*[\"<]" + re.escape(header) + r"[\">]", re.MULTILINE)
        return None if pattern.search(code) else f'#include "{header}"\n{code}'

    def compile_command(self, sources: Sequence[str], output: str, flags: Sequence[str] = (),
                        include_dirs: Sequence[str] = (), compiler: str | None = None) -> list[str]:
        argv = [compiler or self.compiler, *flags]
        for d in include_dirs:
            argv.append(f"-I{d}")
        return [*argv, "-o", output, *sources]

    def run_command(self, main: str) -> tuple[str, ...]:
        return (main,)

    def build_pch(self, flags: Sequence[str], folder: Path, version: str | None = None) -> Path:
        """``bits/stdc++.h.gch`` for ``flags`` (link-only flags dropped), one per compiler version and flags."""
        pch_flags = [f for f in flags if f not in ("-static", "-s")]
        tag = hashlib.sha256(((version or self.version()) + "\0".join(pch_flags)).encode()).hexdigest()[:16]
        assert self.pch_header is not None
        gch = folder / tag / self.pch_header
        # Half-written headers of harnesses that died (killed while building) go first.
        ownership.remove_dead_temps(folder, f"*/{Path(self.pch_header).parent}/.*{PCH_TEMP_SUFFIX}")
        if gch.is_file():
            return gch
        gch.parent.mkdir(parents=True, exist_ok=True)
        # One builder per folder at a time (the judge processes, or Ray actors, of one machine): the others wait
        # for it and take its header. The kernel releases the lock if the builder dies.
        with held_lock(folder / tag / PCH_BUILD_LOCK):
            if gch.is_file():
                return gch
            started = time.monotonic()
            probe = run_tied([self.compiler, "-std=gnu++17", "-H", "-fsyntax-only", "-x", "c++", "-"],
                             input="#include <bits/stdc++.h>\n", text=True, timeout=120)
            header = next((ln[2:] for ln in probe.stderr.splitlines() if ln.startswith(". ")), None)
            if not header:
                raise JudgeError("cannot locate bits/stdc++.h")
            # Written aside under a lock held until it is in place; the compiler dies with this process (run_tied).
            with ownership.held_temp(gch.parent, PCH_TEMP_SUFFIX) as tmp:
                run_tied([self.compiler, *pch_flags, "-x", "c++-header", header, "-o", str(tmp)], check=True,
                         timeout=600)
                os.replace(tmp, gch)
            with contextlib.suppress(OSError), (folder / tag / PCH_BUILD_LOG).open("a") as log:
                log.write(f"{socket.gethostname()} pid {os.getpid()} {time.monotonic() - started:.1f} s\n")
        return gch


class Python(Language):
    """Python 3 (the system interpreter): byte-compiled first, so a syntax error is a CE."""

    name: ClassVar[str] = "python"
    display: ClassVar[str] = "Python 3"
    aliases: ClassVar[tuple[str, ...]] = ("py", "python3", "py3")
    fence_tags: ClassVar[frozenset[str]] = frozenset({"python", "py", "python3", "py3", "pypy", "pypy3"})
    looks_like_pattern: ClassVar[re.Pattern[str] | None] = re.compile(
        r"^[ \t]*(?:def[ \t]+\w+[ \t]*\(|import[ \t]+\w|from[ \t]+[\w.]+[ \t]+import\b)", re.MULTILINE)

    def looks_like(self, code: str) -> bool:
        return super().looks_like(code) and "#include" not in code
    suffixes: ClassVar[tuple[str, ...]] = (".py",)
    builds_program: ClassVar[bool] = False

    @functools.cached_property
    def interpreter(self) -> str:
        """Absolute path of python3 under /usr."""
        if not Path(PYTHON).exists():
            raise JudgeError(f"{PYTHON} not found; install it (Debian: apt-get install python3)")
        return PYTHON

    def version(self) -> str:
        return _tool_version(self.interpreter)

    def compile_command(self, sources: Sequence[str], output: str, flags: Sequence[str] = (),
                        include_dirs: Sequence[str] = (), compiler: str | None = None) -> list[str]:
        """Byte-compile each source in memory: exit 1 with the SyntaxError on stderr (nothing is written)."""
        # One line, so that a SyntaxError's traceback reads the same for one source or several.
        checks = "; ".join(f"src = sys.argv[{i}]; compile(open(src, 'rb').read(), src, 'exec')"
                           for i in range(1, len(sources) + 1))
        return [compiler or self.interpreter, "-I", "-c", f"import sys; {checks}", *sources]

    def run_command(self, main: str) -> tuple[str, ...]:
        """Start ``main`` (the grader, the stub, the submission itself or a package script)."""
        return (self.interpreter, "-B", main)


LANGUAGES: dict[str, Language] = {lang.name: lang for lang in (Cpp(), Python())}


def find_language(name: str) -> Language | None:
    """The language ``name`` or one of its aliases names (any case), or None."""
    key = name.strip().lower()
    return LANGUAGES.get(key) or next((lang for lang in LANGUAGES.values() if key in lang.aliases), None)


def get_language(name: str) -> Language:
    """The language registered under ``name``."""
    try:
        return LANGUAGES[name]
    except KeyError:
        raise JudgeError(f"unknown language {name!r}; known: {', '.join(LANGUAGES)}") from None


def language_of(path: Path) -> str:
    """Guess the language of a source file from its suffix."""
    suffix = path.suffix.lower()
    for name, lang in LANGUAGES.items():
        if suffix in lang.suffixes:
            return name
    raise JudgeError(f"{path}: cannot tell the language from the suffix {suffix!r}; pass --language")
