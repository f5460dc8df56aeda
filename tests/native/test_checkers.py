"""The standalone checkers in checkers/: built with the README's command line, CMS protocol,
and the same verdicts as the in-process comparators."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KINDS = ["tokens", "floats", "floats_nocase", "yes_no", "unordered_lines", "white_diff"]


@pytest.fixture(scope="module")
def checkers(tmp_path_factory) -> dict[str, str]:
    if shutil.which("g++") is None:
        pytest.skip("g++ not available")
    out = tmp_path_factory.mktemp("checkers")
    built = {}
    for kind in KINDS:
        exe = out / kind
        cmd = ["g++", "-O2", "-std=gnu++17", "-static", "-I", "cpp", f"checkers/{kind}.cpp", "cpp/compare.cpp"]
        r = subprocess.run([*cmd, "-o", str(exe)], cwd=REPO, capture_output=True, text=True)
        if r.returncode != 0 and "cannot find -l" in r.stderr:  # no static runtime: build dynamic
            r = subprocess.run([*[c for c in cmd if c != "-static"], "-o", str(exe)], cwd=REPO, capture_output=True)
        assert r.returncode == 0, r.stderr
        built[kind] = str(exe)
    return built


def check(exe: str, tmp: Path, expected: str, output: str, *tol: str) -> tuple[int, str, str]:
    (tmp / "in").write_text("ignored\n")
    (tmp / "exp").write_text(expected)
    (tmp / "out").write_text(output)
    r = subprocess.run([exe, str(tmp / "in"), str(tmp / "exp"), str(tmp / "out"), *tol], capture_output=True, text=True)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize(
    ("kind", "expected", "output", "ok"),
    [
        ("tokens", "1 2 3\n", "1\n2 3", True),
        ("tokens", "1 2 3\n", "1 2 4", False),
        ("floats", "0.5\n", "0.5000001", True),
        ("floats", "0.5\n", "0.6", False),
        ("floats_nocase", "0.5 NO\n", "0.5000001 no", True),
        ("floats_nocase", "0.5 NO\n", "0.5 yes", False),
        ("yes_no", "YES\n", "yes", True),
        ("yes_no", "YES\n", "no", False),
        ("unordered_lines", "a\nb\n", "b\na\n", True),
        ("unordered_lines", "a\nb\n", "a\n", False),
        ("white_diff", "a  b\n\n", "a b", True),
        ("white_diff", "a\n\nb\n", "a\nb\n", False),
    ],
)
def test_protocol(checkers, native, tmp_path, kind, expected, output, ok):
    rc, out, err = check(checkers[kind], tmp_path, expected, output)
    assert rc == 0
    assert out.splitlines()[0] == ("1" if ok else "0")
    first = err.splitlines()[0]
    assert first.startswith("Output is correct" if ok else "Output isn't correct: ")
    # one implementation: the in-process comparator says the same
    in_ok, msg = native.compare(kind, str(tmp_path / "exp"), str(tmp_path / "out"))
    assert in_ok == ok
    if not ok:
        assert first == f"Output isn't correct: {msg}"


def test_float_tolerance_arguments(checkers, tmp_path):
    assert check(checkers["floats"], tmp_path, "1.0", "1.01")[1].startswith("0")
    assert check(checkers["floats"], tmp_path, "1.0", "1.01", "0.1", "0")[1].startswith("1")
    assert check(checkers["floats"], tmp_path, "100", "101", "0", "0.02")[1].startswith("1")


def test_missing_output_is_a_verdict(checkers, tmp_path):
    (tmp_path / "exp").write_text("1\n")
    r = subprocess.run(
        [checkers["tokens"], "in", str(tmp_path / "exp"), str(tmp_path / "nope")], capture_output=True, text=True
    )
    assert r.returncode == 0 and r.stdout.startswith("0")


@pytest.mark.parametrize(
    "args",
    [
        [],  # usage
        ["in", "exp"],
        ["in", "/nonexistent/expected", "out"],  # judge error: no reference
        ["in", "exp", "out", "x", "0"],  # bad tolerance
        ["in", "exp", "out", "0.1"],  # half the tolerances
    ],
)
def test_judge_errors_exit_nonzero(checkers, tmp_path, args):
    (tmp_path / "exp").write_text("1\n")
    (tmp_path / "out").write_text("1\n")
    r = subprocess.run([checkers["floats"], *args], cwd=tmp_path, capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout == "" and r.stderr
