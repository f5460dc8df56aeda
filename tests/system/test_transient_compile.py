"""A compile killed from outside, or told the host's disk is full, is never a CE and never cached (issue 11,
part 2), in the real box: a compiler that kills itself, one that says "No space left on device", and the real
cc1plus killed by someone else while it compiles."""

from __future__ import annotations

import os
import secrets
import signal
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest

from ioi_eval.backends.local import LocalBackend
from ioi_eval.errors import JudgeError
from ioi_eval.judge.compiler import Compiler, CompileUnit
from ioi_eval.judge.languages import CPP_FLAGS, LANGUAGES, Language


class Scripted(Language):
    """A language whose "compiler" is a shell script (the sources then run as they are)."""

    name: ClassVar[str] = "scripted-test"
    display: ClassVar[str] = "scripted"
    suffixes: ClassVar[tuple[str, ...]] = (".sh",)
    builds_program: ClassVar[bool] = False

    def __init__(self, script: str) -> None:
        self.script = script

    def version(self) -> str:
        return "scripted 1"

    def compile_command(self, sources: Sequence[str], output: str, flags: Sequence[str] = (),
                        include_dirs: Sequence[str] = (), compiler: str | None = None) -> list[str]:
        return ["/bin/sh", "-c", self.script]

    def run_command(self, main: str) -> tuple[str, ...]:
        return ("/bin/sh", main)


@pytest.fixture(scope="module")
def box() -> Iterator[object]:
    b = LocalBackend().open(workers=1)
    try:
        yield b
    finally:
        b.close()


def _entries(cache: Path) -> list[Path]:
    return [p for p in (cache / "compile").glob("*/*") if not p.name.startswith(".")]


def _scripted(monkeypatch: pytest.MonkeyPatch, script: str) -> CompileUnit:
    monkeypatch.setitem(LANGUAGES, Scripted.name, Scripted(script))
    return CompileUnit(language=Scripted.name, files=(("a.sh", script.encode()),), compiled=("a.sh",), main="a.sh")


def test_a_compiler_killed_from_outside_is_retried_then_se_not_cached(box, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    # The sandbox's shell is no pid 1, so SIGKILL of itself lands (as a kill from outside would).
    unit = _scripted(monkeypatch, "kill -KILL $$")
    compiler = Compiler(box, cache_dir=tmp_path / "cache", use_pch=False)
    with pytest.raises(JudgeError, match=r"failed 2 times .*killed from outside \(signal 9\)"):
        compiler.compile(unit)
    assert _entries(tmp_path / "cache") == []


def test_a_full_disk_is_se_not_cached_and_a_real_ce_is_cached(box, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    compiler = Compiler(box, cache_dir=tmp_path / "cache", use_pch=False)
    full = _scripted(monkeypatch, "echo 'a.sh: error writing: No space left on device' >&2; exit 1")
    with pytest.raises(JudgeError, match="out of disk space"):
        compiler.compile(full)
    assert _entries(tmp_path / "cache") == []
    ce = _scripted(monkeypatch, "echo 'a.sh:1: error: expected something' >&2; exit 1")
    res, _ = compiler.compile(ce)
    assert not res.ok and "expected something" in res.message
    assert len(_entries(tmp_path / "cache")) == 1
    assert compiler.compile(ce)[0].cached


SLOW = """
constexpr long spin(long n) { long s = 0; for (long i = 0; i < n; i++) s += i % 7; return s; }
static_assert(spin(30000000) > 0);
int main() {}
"""


def _kill_tagged(tag: str, stop: threading.Event, killed: list[int]) -> None:
    """Kill every cc1plus whose command line names ``tag``, until ``stop``."""
    while not stop.wait(0.05):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if b"cc1plus" in cmd and tag.encode() in cmd:
                try:
                    os.kill(int(entry.name), signal.SIGKILL)
                    killed.append(int(entry.name))
                except OSError:
                    pass


def test_the_real_cc1plus_killed_from_outside_is_se_not_ce(box, tmp_path: Path) -> None:
    tag = f"IOI_KILL_ME_{secrets.token_hex(4)}"
    unit = CompileUnit(language="cpp", files=(("a.cpp", SLOW.encode()),), compiled=("a.cpp",), main="a.cpp",
                       flags=(*CPP_FLAGS, f"-D{tag}", "-fconstexpr-ops-limit=2000000000",
                              "-fconstexpr-loop-limit=2000000000"))
    compiler = Compiler(box, cache_dir=tmp_path / "cache", use_pch=False)
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_tagged, args=(tag, stop, killed), daemon=True)
    killer.start()
    try:
        with pytest.raises(JudgeError, match=r"failed 2 times .*'Killed signal terminated program'"):
            compiler.compile(unit)
    finally:
        stop.set()
        killer.join()
    assert len(killed) >= 2 and _entries(tmp_path / "cache") == []
