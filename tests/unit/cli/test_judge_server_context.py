"""Whose judge server a caller may use: the digest of its context (ioi_eval/cli/judge_server.py)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioi_eval.cli import judge_server
from ioi_eval.cli.judge_server import PER_CALL_ENV, _code_lines, socket_path


@pytest.fixture
def runtime(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="xdg-", dir="/tmp") as d:  # short: a socket path has at most 107 bytes
        monkeypatch.setenv("XDG_RUNTIME_DIR", d)
        yield Path(d)


def test_per_call_variables_keep_the_server_and_others_change_it(runtime: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first = socket_path()
    assert Path(first).parent == runtime / f"ioi-eval-judge-{os.geteuid()}"
    assert (Path(first).parent.stat().st_mode & 0o777) == 0o700
    for name in sorted(PER_CALL_ENV):
        monkeypatch.setenv(name, "something else")
        assert socket_path() == first, name
    monkeypatch.setenv("IOI_EVAL_DOCKER_IMAGE", "another:tag")  # read at import time: another server
    assert socket_path() != first
    monkeypatch.delenv("IOI_EVAL_DOCKER_IMAGE")
    assert socket_path() == first


def test_an_edited_source_file_changes_the_digest(tmp_path: Path, runtime: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    src = tmp_path / "pkg" / "sub" / "mod.py"
    src.write_text("x = 1\n")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\0")
    before = _code_lines(str(tmp_path / "pkg"))
    assert len(before) == 1 and before[0].startswith(str(src))  # bytecode left out
    monkeypatch.setattr(judge_server, "_package_dirs", lambda: [str(tmp_path / "pkg")])
    digest = socket_path()
    os.utime(src, ns=(0, 10**9))
    assert _code_lines(str(tmp_path / "pkg")) != before
    assert socket_path() != digest


def test_limits_are_part_of_the_context(runtime: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import resource

    first = socket_path()
    soft, hard = resource.getrlimit(resource.RLIMIT_CORE)
    monkeypatch.setattr(resource, "getrlimit", lambda which, real=resource.getrlimit: (
        (soft + 1, hard) if which == resource.RLIMIT_CORE else real(which)))
    assert socket_path() != first
