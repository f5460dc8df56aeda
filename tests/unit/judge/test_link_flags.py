"""The faster linker of a C++ compile: which one, when, and never a different command where none is installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioi_eval.errors import JudgeError
from ioi_eval.judge import languages
from ioi_eval.judge.languages import LANGUAGES

GXX12 = "x86_64-linux-gnu-g++-12 (Debian 12.2.0-14+deb12u1) 12.2.0"


@pytest.fixture
def linkers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Both linkers installed (executables in a temporary folder); the test removes what it wants absent."""
    paths = {}
    for name in ("lld", "gold"):
        exe = paths[name] = tmp_path / f"ld.{name}"
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setattr(languages, "FAST_LINKERS", tuple((n, str(p)) for n, p in paths.items()))
    monkeypatch.delenv(languages.LINKER_ENV, raising=False)
    return paths


def test_the_fastest_installed_linker(linkers: dict[str, Path]) -> None:
    cpp = LANGUAGES["cpp"]
    assert cpp.link_flags(GXX12) == ("-fuse-ld=lld",)
    assert cpp.link_flags("g++ (GCC) 9.1.0") == ("-fuse-ld=lld",)
    linkers["lld"].unlink()
    assert cpp.link_flags(GXX12) == ("-fuse-ld=gold",)
    linkers["gold"].unlink()
    assert cpp.link_flags(GXX12) == ()  # none installed: g++'s own linker, the CMS command unchanged


@pytest.mark.parametrize("version", ["g++ (GCC) 8.3.0", "clang version 14.0.6", "", "g++ (weird)"])
def test_other_compilers_keep_their_linker(linkers: dict[str, Path], version: str) -> None:
    assert LANGUAGES["cpp"].link_flags(version) == ()


def test_the_environment_picks(linkers: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cpp = LANGUAGES["cpp"]
    monkeypatch.setenv(languages.LINKER_ENV, "gold")
    assert cpp.link_flags(GXX12) == ("-fuse-ld=gold",)
    monkeypatch.setenv(languages.LINKER_ENV, "default")
    assert cpp.link_flags(GXX12) == ()
    monkeypatch.setenv(languages.LINKER_ENV, "Gold ")
    linkers["gold"].unlink()
    assert cpp.link_flags(GXX12) == ()  # the one asked for is missing: g++'s own, never another
    monkeypatch.setenv(languages.LINKER_ENV, "mold")
    with pytest.raises(JudgeError, match="IOI_EVAL_LINKER='mold': expected one of lld, gold, default"):
        cpp.link_flags(GXX12)


def test_python_links_nothing() -> None:
    assert LANGUAGES["python"].link_flags("Python 3.11.2") == ()
