"""Helper processes die with the harness (issue 11, part 2): a SIGKILL of the harness leaves no ``g++`` or
``cc1plus`` running, and the half-written precompiled header it leaves is removed by the next start."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ioi_box.children import run_tied

from ioi_eval.judge.languages import CPP_FLAGS, LANGUAGES, PCH_TEMP_SUFFIX
from tests.fixtures.strict import require

PCH_HARNESS = """
import sys
from pathlib import Path
from ioi_eval.judge.languages import CPP_FLAGS, LANGUAGES
LANGUAGES["cpp"].build_pch(CPP_FLAGS, Path(sys.argv[1]))
"""

TIED_HARNESS = """
import sys
from ioi_box.children import run_tied
run_tied(["/bin/sh", "-c", f"sleep {sys.argv[1]} & sleep {sys.argv[1]}; wait"])
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _procs_naming(needle: str) -> list[tuple[int, str]]:
    """Live processes whose command line contains ``needle`` (zombies are dead: left out)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in cmd and state != "Z":
            found.append((int(entry.name), cmd))
    return found


def _wait_for(check, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_run_tied_takes_the_whole_tree_down_with_the_harness() -> None:
    tag = f"300.{secrets.randbelow(10**6):06d}"  # a sleep of its own: names every process of the tree
    harness = subprocess.Popen([sys.executable, "-c", TIED_HARNESS, tag], env=_env())
    try:
        # the supervisor, the shell and its two sleeps
        assert _wait_for(lambda: sum(c.startswith("sleep ") for _, c in _procs_naming(tag)) == 2, 30)
        harness.send_signal(signal.SIGKILL)
        harness.wait(10)
        assert _wait_for(lambda: not _procs_naming(tag), 10), f"outlived the harness: {_procs_naming(tag)}"
    finally:
        harness.kill()


def test_run_tied_timeout_kills_the_whole_tree(tmp_path: Path) -> None:
    marker = tmp_path / "still-running"
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_tied(["/bin/sh", "-c", f"(sleep 2; touch {marker}) & sleep 300"], timeout=0.5)
    assert time.monotonic() - start < 10
    time.sleep(2.5)
    assert not marker.exists(), "the grandchild outlived the timeout"


def test_a_killed_pch_build_leaves_no_compiler_and_its_leftover_is_removed(tmp_path: Path) -> None:
    require(shutil.which("g++") is not None, "needs g++")
    folder = tmp_path / "pch"
    harness = subprocess.Popen([sys.executable, "-c", PCH_HARNESS, str(folder)], env=_env())
    try:
        assert _wait_for(lambda: any("cc1plus" in c for _, c in _procs_naming(str(folder))), 60), \
            "the PCH build never started cc1plus"
        leftovers = list(folder.glob(f"*/bits/.*{PCH_TEMP_SUFFIX}"))
        assert len(leftovers) == 1  # the header being written, under the lock of the live harness
        harness.send_signal(signal.SIGKILL)
        harness.wait(10)
        # At once: a compiler left running would finish the header within seconds.
        assert _wait_for(lambda: not _procs_naming(str(folder)), 2), \
            f"compilers outlived the harness: {_procs_naming(str(folder))}"
        assert leftovers[0].exists()  # half-written, left behind by the death
    finally:
        harness.kill()
    # The next start removes the leftover, and builds the header anew.
    gch = LANGUAGES["cpp"].build_pch(CPP_FLAGS, folder)
    assert gch.is_file() and gch.stat().st_size > 0
    assert not leftovers[0].exists()
    assert list(folder.glob(f"*/bits/.*{PCH_TEMP_SUFFIX}")) == [] and list(folder.glob("*/bits/.*.new")) == []


HOLD_TEMP = """
import sys, time
from pathlib import Path
from ioi_box import ownership
with ownership.held_temp(Path(sys.argv[1]), ".part") as tmp:
    tmp.write_bytes(b"half")
    print(tmp, flush=True)
    time.sleep(600)
"""


def test_only_the_temporary_files_of_dead_writers_are_removed(tmp_path: Path) -> None:
    from ioi_box import ownership

    live = subprocess.Popen([sys.executable, "-c", HOLD_TEMP, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env=_env())
    dead = subprocess.Popen([sys.executable, "-c", HOLD_TEMP, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                            env=_env())
    try:
        assert live.stdout is not None and dead.stdout is not None
        live_tmp, dead_tmp = Path(live.stdout.readline().strip()), Path(dead.stdout.readline().strip())
        dead.send_signal(signal.SIGKILL)
        dead.wait(10)
        with ownership.held_temp(tmp_path, ".part") as mine:
            mine.write_bytes(b"mine")
            assert ownership.remove_dead_temps(tmp_path, "*.part") == [dead_tmp]
            assert live_tmp.exists() and mine.exists() and not dead_tmp.exists()
        assert not mine.exists()  # not renamed away: removed when the block ends
    finally:
        live.kill()
        dead.kill()
