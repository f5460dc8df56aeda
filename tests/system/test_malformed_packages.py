"""A broken or hostile package is a clear error before anything is judged (the corpus of tests/fixtures/malformed.py).

Each case runs through the real CLI in a child process whose HOME, TMPDIR, cache and working folder are
folders of the test: a malformed package gives exit 2 and one ``error:`` line naming the file and the field
(or, where the fault shows only when the package's own program runs, a judge error); nothing prints a
traceback or a host file's content; nothing is written outside the cache and the temporary folder; the
package's bytes and modes (and those of every other file of the test) are unchanged, also for the sound
packages that get judged.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.malformed import CANARY, SOLUTIONS, Case, corpus, write_host_files

CASES = corpus()
CATEGORIES = {"limits", "scores", "subtasks", "names", "symlinks", "special", "archives", "params", "other",
              "importers", "runtime", "control"}


def snapshot(root: Path, skip: set[Path]) -> dict[str, tuple]:
    """Every path under ``root`` (symlinks not followed): its kind, mode and content digest or link target."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if here / d not in skip]
        for name in dirnames + filenames:
            p = here / name
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                detail = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                detail = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                detail = ""
            out[str(p.relative_to(root))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), detail)
    return out


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the corpus, so the compile cache and precompiled header are built once."""
    return tmp_path_factory.mktemp("cache")


def _run(case: Case, tmp_path: Path, cache: Path) -> tuple[subprocess.CompletedProcess[str], dict, dict]:
    dirs = {name: tmp_path / name for name in ("home", "tmp", "cwd", "pkgs", "host", "solution")}
    for d in dirs.values():
        d.mkdir()
    dirs["cache"] = cache
    write_host_files(dirs["host"])
    (dirs["pkgs"] / case.id).mkdir()
    target = case.build(dirs["pkgs"] / case.id, dirs["host"])
    argv = [sys.executable, "-m", "ioi_eval.cli"]
    if case.judge is None:
        argv += ["problems", "list", str(target)]
    else:
        name, source = SOLUTIONS[case.judge]
        (dirs["solution"] / name).write_text(source)
        argv += ["judge", "--problem", str(target), "--solution", str(dirs["solution"] / name), "--json"]
    allowed = {dirs["cache"], dirs["tmp"]}
    before = snapshot(tmp_path, allowed)
    env = {**os.environ, "HOME": str(dirs["home"]), "TMPDIR": str(dirs["tmp"]), "IOI_EVAL_CACHE": str(dirs["cache"]),
           "COLUMNS": "200", **case.env}
    for key in ("IOI_EVAL_ARCHIVE_MAX_BYTES", "IOI_EVAL_ARCHIVE_MAX_MEMBERS"):
        if key not in case.env:
            env.pop(key, None)
    res = subprocess.run(argv, cwd=dirs["cwd"], env=env, capture_output=True, text=True, timeout=300)
    return res, before, snapshot(tmp_path, allowed)


def test_the_corpus_covers_every_category() -> None:
    assert {c.category for c in CASES} == CATEGORIES
    assert len([c for c in CASES if c.category != "control"]) >= 80
    assert len({c.id for c in CASES}) == len(CASES)
    assert any(c.judge and c.expect == "ok" for c in CASES)  # the judged controls prove modes survive judging


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_package(case: Case, tmp_path: Path, cache: Path) -> None:
    res, before, after = _run(case, tmp_path, cache)
    text = res.stdout + res.stderr
    assert "Traceback" not in text, text
    assert CANARY not in text and "root:x:0:0" not in text, text  # no host file is ever quoted
    changed = sorted(set(before.items()) ^ set(after.items()))
    assert not changed, f"written or changed outside the cache and the temporary folder: {changed}"
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    if case.expect == "error":
        assert res.returncode == 2, text
        assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
        assert re.search(case.needle, lines[0]), lines[0]
    elif case.expect == "runtime":
        if res.returncode == 2:  # the package's program does not compile: a judge error naming it, with its log
            assert lines and lines[0].startswith("error: "), res.stderr
            assert re.search(case.needle, lines[0]), lines[0]
        else:  # it fails while judging: SE, never a verdict on the submission
            assert res.returncode == 1, text
            report = json.loads(res.stdout)
            assert report["tests"] and all(t["verdict"] == "SE" for t in report["tests"]), report["tests"]
            assert re.search(case.needle, res.stderr), res.stderr
    else:
        assert res.returncode == 0, text
        if case.expect == "warn":
            assert len(lines) == 1 and lines[0].startswith("warning: "), res.stderr
            assert re.search(case.needle, lines[0]), lines[0]
        else:
            assert not lines, res.stderr
        if case.judge is not None:
            assert json.loads(res.stdout)["score"] == 100, res.stdout
