"""Harnesses sharing a machine never destroy each other's work, whatever their pid namespaces.

Ownership of a work root and of a cgroup is a lock file held with ``flock`` (``ioi_box.ownership``): the kernel
releases it when the harness dies, in any pid namespace. Clean-up takes only what nobody holds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from ioi_box import ownership

from tests.conftest import PROBLEMS, REPO
from tests.fixtures.strict import require

HOLDER = """
import sys, time
from pathlib import Path
from ioi_box import ownership
me = ownership.owner(Path(sys.argv[1]))
(Path(sys.argv[1]) / (me.root_prefix() + "x")).mkdir()
print(me.token, flush=True)
time.sleep(600)
"""


def _holder(base: Path) -> tuple[subprocess.Popen, str]:
    p = subprocess.Popen([sys.executable, "-c", HOLDER, str(base)], stdout=subprocess.PIPE, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert p.stdout is not None
    return p, p.stdout.readline().strip()


def test_a_live_harness_is_never_cleaned_and_a_dead_one_always_is(tmp_path: Path) -> None:
    base = tmp_path / "base"
    live, live_token = _holder(base)
    dead, dead_token = _holder(base)
    removed_groups: list[str] = []
    try:
        assert ownership.remove_stale(base, removed_groups.append) == []
        dead.send_signal(signal.SIGKILL)  # no clean-up of its own: the kernel drops its lock
        dead.wait()
        assert ownership.remove_stale(base, removed_groups.append) == [dead_token]
        assert removed_groups == [f"ioi-eval-{dead_token}"]
        assert not list(base.glob(f"*{dead_token}*"))  # its root and its lock file
        assert (base / f"box-{live_token}-x").is_dir() and ownership.is_held(base / f"{live_token}.lock")
    finally:
        live.kill()
        live.wait()


def test_what_has_no_visible_lock_is_left_alone(tmp_path: Path) -> None:
    """A root whose owner cannot be told (no lock file here, or an older layout named by pid) is a leak, not ours."""
    base = tmp_path / "base"
    base.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    orphans = [base / "box-0123456789abcdef-x", base / f"box-{dead.pid}-legacy"]
    for d in orphans:
        d.mkdir()
    (base / "garbage.lock").mkdir()  # not even a file
    assert ownership.remove_stale(base) == []
    assert all(d.is_dir() for d in orphans)


def test_own_lock_counts_as_held_and_a_fork_takes_its_own(tmp_path: Path) -> None:
    me = ownership.owner(tmp_path)
    assert ownership.owner(tmp_path) is me and ownership.is_held(me.lock_path) is True
    assert ownership.remove_stale(tmp_path) == []
    assert not list(tmp_path.glob(".*.new"))  # the draft name of a lock never stays
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a process of its own, so an owner of its own
        child = ownership.owner(tmp_path)
        os.write(w, child.token.encode() if child is not me and child.pid == os.getpid() else b"same")
        os._exit(0)
    os.waitpid(pid, 0)
    token = os.read(r, 64).decode()
    assert token != "same" and token != me.token
    assert ownership.remove_stale(tmp_path) == [token]  # the child has ended: its lock is free


# -- the real thing: harnesses judging at once, across pid namespaces --------------------------------

CHOSEN = ("pairsum", "summit", "towers")


def _validate(folder: Path, cache: Path, prefix: tuple[str, ...] = ()) -> subprocess.Popen:
    return subprocess.Popen([*prefix, sys.executable, "-m", "ioi_eval.cli", "problems", "validate", str(folder),
                             "--json", "--workers", "2"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "IOI_EVAL_CACHE": str(cache), "COLUMNS": "200"})


def _finish(p: subprocess.Popen, what: str) -> list:
    out, err = p.communicate(timeout=900)
    assert p.returncode == 0 and "Traceback" not in err, f"{what}: exit {p.returncode}\n{err[-3000:]}"
    return json.loads(out)


def test_harnesses_in_other_pid_namespaces_leave_a_live_one_alone(tmp_path: Path) -> None:
    """One harness judging; two more start meanwhile under ``unshare --pid`` (both pid 1 there, so the same pid
    as each other): every one's verdicts equal a solo run's, and none of them reports an error."""
    require(os.geteuid() == 0 and shutil.which("unshare") is not None, "needs root and unshare (util-linux)")
    folder = tmp_path / "problems"
    folder.mkdir()
    for code in CHOSEN:
        (folder / code).symlink_to(PROBLEMS / code)
    solo = _finish(_validate(folder, tmp_path / "solo-cache"), "solo")

    base = ownership.default_base()
    before = {d.name for d in base.glob("box-*")} if base.is_dir() else set()
    first = _validate(folder, tmp_path / "cache")
    deadline = time.monotonic() + 120
    while not ({d.name for d in base.glob("box-*")} - before) and first.poll() is None:
        assert time.monotonic() < deadline, "the first harness never made its work root"
        time.sleep(0.05)
    unshare = ("unshare", "--pid", "--fork", "--mount-proc")
    others = [_validate(folder, tmp_path / f"cache-{i}", unshare) for i in range(2)]
    results = {"first": _finish(first, "first")}
    results.update({f"unshared-{i}": _finish(p, f"unshared-{i}") for i, p in enumerate(others)})
    for what, got in results.items():
        assert got == solo, what



def test_a_private_tmpdir_does_not_fail_in_disguise(tmp_path: Path) -> None:
    """With TMPDIR private (0700, as ``mktemp -d`` makes it) the sandbox's uids cannot reach a work root there:
    the harness puts its root under /tmp instead, and a correct solution is accepted (it was CE before)."""
    require(os.geteuid() == 0, "only a root harness runs untrusted code under other uids")
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    solution = PROBLEMS / "pairsum" / "solutions" / "correct" / "pairsum_hash.cpp"
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "-p", str(PROBLEMS / "pairsum"), "-s",
                          str(solution), "--json"], cwd=REPO, capture_output=True, text=True, timeout=600,
                         env={**os.environ, "TMPDIR": str(private), "IOI_EVAL_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["compile"]["ok"] and report["score"] == report["max_score"], report["compile"]
    assert not list(private.iterdir())  # nothing was put where the sandbox cannot reach


def test_reachability_is_told_from_every_folder_on_the_path(tmp_path: Path) -> None:
    open_dir = tmp_path / "open" / "inner"
    open_dir.mkdir(parents=True)
    os.chmod(tmp_path / "open", 0o755)
    closed = tmp_path / "closed" / "inner"
    closed.mkdir(parents=True)
    os.chmod(tmp_path / "closed", 0o700)
    assert ownership.reachable_by_others(open_dir) == ownership.reachable_by_others(tmp_path)
    assert not ownership.reachable_by_others(closed)
    assert not ownership.reachable_by_others(tmp_path / "missing")
