"""Languages: how a submission is compiled and how the compiled program is started.

A :class:`Language` says which compile command to run inside the box and how to start the result.
Sources are bound read-only under ``/src``; the compile writes into ``/box`` (a scratch folder).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Protocol

from ..errors import JudgeError

CPP_FLAGS = ("-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-static", "-s")
TRUSTED_CPP_FLAGS = ("-std=gnu++17", "-O2", "-pipe", "-static", "-s")
PYTHON = "/usr/bin/python3"


@dataclass(frozen=True)
class Program:
    """A runnable program inside a box: the files to bind and the command line."""

    argv: tuple[str, ...]
    files: dict[str, str] = field(default_factory=dict)  # inside path -> blob path


class Language(Protocol):
    """A submission language."""

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def version(self) -> str:
        """A string that changes whenever the toolchain changes (part of compile cache keys)."""
        ...


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
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise JudgeError(f"cannot run {exe} --version: {exc}") from None
    return out.splitlines()[0] if out else exe


class Cpp:
    """C++17 (GNU) as CMS compiles it: ``g++ -DEVAL -std=gnu++17 -O2 -pipe -static -s``."""

    name: ClassVar[str] = "cpp"
    suffixes: ClassVar[tuple[str, ...]] = (".cpp", ".cc", ".cxx", ".c++")

    @functools.cached_property
    def compiler(self) -> str:
        """Absolute path of g++."""
        return _which("g++", "g++")

    def version(self) -> str:
        return _tool_version(self.compiler)

    def compile_argv(self, sources: list[str], flags: tuple[str, ...], output: str,
                     include_dirs: list[str], compiler: str | None = None) -> list[str]:
        """The compiler command line (inside paths); ``compiler``: the box's g++ (default: this host's)."""
        argv = [compiler or self.compiler, *flags]
        for d in include_dirs:
            argv.append(f"-I{d}")
        return [*argv, "-o", output, *sources]


class Python:
    """Python 3 (the system interpreter): byte-compiled first, so a syntax error is a CE."""

    name: ClassVar[str] = "python"
    suffixes: ClassVar[tuple[str, ...]] = (".py",)

    @functools.cached_property
    def interpreter(self) -> str:
        """Absolute path of python3 under /usr."""
        if not Path(PYTHON).exists():
            raise JudgeError(f"{PYTHON} not found; install it (Debian: apt-get install python3)")
        return PYTHON

    def version(self) -> str:
        return _tool_version(self.interpreter)

    def check_argv(self, source: str) -> list[str]:
        """Byte-compile ``source`` in memory: exit 1 with the SyntaxError on stderr."""
        code = "import sys; src = sys.argv[1]; compile(open(src, 'rb').read(), src, 'exec')"
        return [self.interpreter, "-I", "-c", code, source]

    def run_argv(self, main: str) -> tuple[str, ...]:
        """Start ``main`` (the grader, stub or the submission itself)."""
        return (self.interpreter, "-B", main)


LANGUAGES: dict[str, Language] = {"cpp": Cpp(), "python": Python()}


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
