"""The resident judge (``IOI_EVAL_JUDGE_SERVER=1``): a served ``ioi-eval judge`` is the in-process one, byte for byte,
in the caller's folder, environment and stdio; only a caller of the same process context is served; signals reach
the judge and a dead caller ends it; an idle server ends and a dead one is replaced (issue 13: start-up)."""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ioi_eval.adversarial.procs import sandbox_processes, wait_until_gone
from ioi_eval.cli.judge_server import ENABLE_ENV, IDLE_ENV, command_of

CORRECT = "#include <cstdio>\nint main(){long long a,b; scanf(\"%lld %lld\",&a,&b); printf(\"%lld\\n\",a+b);}\n"
SPIN = "int main(){ volatile unsigned long x = 0; for (;;) x++; }\n"
SERVED = re.compile(r"ioi-eval: judged by the judge server's fork, pid (\d+) \((\S+)\)\n?")


@pytest.fixture
def served() -> Iterator[dict[str, str]]:
    """The environment of a served caller, with its own runtime folder (short: a socket path has at most 107
    bytes); every server started under it is ended afterwards."""
    runtime = Path(tempfile.mkdtemp(prefix="xdg-", dir="/tmp"))
    yield {**os.environ, ENABLE_ENV: "1", "XDG_RUNTIME_DIR": str(runtime), IDLE_ENV: "120"}
    for pid in _servers(runtime):
        os.kill(pid, signal.SIGTERM)
    assert wait_until_gone(lambda: [str(p) for p in _servers(runtime)], 20) == []
    shutil.rmtree(runtime)


def _servers(runtime: Path) -> list[int]:
    """Pids of the judge servers started under ``runtime`` (their command line names their socket there)."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                cmd = (d / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"ioi_eval.cli.judge_server" in cmd and any(str(runtime).encode() in a for a in cmd):
                found.append(int(d.name))
    return found


def _judge(env: dict[str, str], *args: str, cwd: Path | None = None,
           preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ioi_eval.cli", "-v", "judge", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300, preexec_fn=preexec)


def _socket_up(env: dict[str, str], count: int = 1) -> list[Path]:
    """Wait until ``count`` servers listen under the runtime folder; their sockets."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        socks = sorted(Path(env["XDG_RUNTIME_DIR"]).glob("ioi-eval-judge-*/*.sock"))
        if len(socks) >= count:
            return socks
        time.sleep(0.05)
    raise AssertionError(f"{count} judge server(s) did not come up: {list(Path(env['XDG_RUNTIME_DIR']).rglob('*'))}")


def _verdicts(out: str) -> tuple[float, list[tuple[str, str]]]:
    report = json.loads(out)
    return report["score"], [(t["name"], t["verdict"]) for t in report["tests"]]


def test_a_served_judge_is_the_in_process_one(sum_package: Path, tmp_path: Path, served: dict[str, str]) -> None:
    (tmp_path / "s.cpp").write_text(CORRECT)
    args = ("--problem", str(sum_package), "--solution", "s.cpp", "--json")  # relative: the caller's folder
    alone = _judge({**served, ENABLE_ENV: "0"}, *args, cwd=tmp_path)
    first = _judge(served, *args, cwd=tmp_path)  # no server yet: judged here, one started for the next call
    assert alone.returncode == first.returncode == 0, first.stderr
    assert not SERVED.search(first.stderr)
    [sock] = _socket_up(served)
    cache = tmp_path / "own-cache"  # read per call: the caller's compile cache, not the server's
    again = _judge({**served, "IOI_EVAL_CACHE": str(cache)}, *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    got = SERVED.search(again.stderr)
    assert got and got.group(2) == str(sock), again.stderr
    assert _verdicts(again.stdout) == _verdicts(alone.stdout) == (100.0, [(t, "AC") for t in
                                                                         ["0-01", "1-01", "1-02", "2-01", "2-02"]])
    assert cache.is_dir() and any(cache.rglob("*")), "the served judge used the caller's IOI_EVAL_CACHE"
    # An error reads the same, with the same exit status.
    bad = ("--problem", str(sum_package), "--solution", "missing.cpp")
    alone_bad, served_bad = _judge({**served, ENABLE_ENV: "0"}, *bad, cwd=tmp_path), _judge(served, *bad, cwd=tmp_path)
    assert SERVED.search(served_bad.stderr)
    assert served_bad.returncode == alone_bad.returncode == 2
    assert SERVED.sub("", served_bad.stderr).strip() == alone_bad.stderr.strip()
    assert served_bad.stdout == alone_bad.stdout


def test_callers_at_once_are_each_served_their_own(sum_package: Path, tmp_path: Path,
                                                   served: dict[str, str]) -> None:
    """Four callers at once, two solutions: each gets its own fork and its own solution's verdicts."""
    (tmp_path / "s.cpp").write_text(CORRECT)
    (tmp_path / "w.cpp").write_text(CORRECT.replace("a+b", "a-b"))
    _judge(served, "--problem", str(sum_package), "--solution", str(tmp_path / "s.cpp"))
    _socket_up(served)
    procs = [subprocess.Popen([sys.executable, "-m", "ioi_eval.cli", "-v", "judge", "--problem", str(sum_package),
                               "--solution", str(tmp_path / name), "--json"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=served) for name in ("s.cpp", "w.cpp") * 2]
    outs = [p.communicate(timeout=300) for p in procs]
    forks = {int(SERVED.search(err).group(1)) for _, err in outs if SERVED.search(err)}
    assert len(forks) == 4, [err for _, err in outs]
    scores = [_verdicts(out)[0] for out, _ in outs]
    assert [p.returncode for p in procs] == [0] * 4 and scores[0] == scores[2] == 100.0
    assert scores[1] == scores[3] < 100.0


def test_only_a_caller_of_the_same_context_is_served(sum_package: Path, tmp_path: Path,
                                                     served: dict[str, str]) -> None:
    (tmp_path / "s.cpp").write_text(CORRECT)
    args = ("--problem", str(sum_package), "--solution", str(tmp_path / "s.cpp"), "--json")
    _judge(served, *args)
    [first] = _socket_up(served)

    def fewer_files() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))

    for env, preexec in (({**served, "IOI_EVAL_SOME_SETTING": "x"}, None), (served, fewer_files)):
        other = _judge(env, *args, preexec=preexec)
        assert other.returncode == 0 and not SERVED.search(other.stderr), other.stderr  # not the first's
    socks = _socket_up(served, 3)
    assert first in socks and len(socks) == 3
    served_other = _judge(served, *args, preexec=fewer_files)
    got = SERVED.search(served_other.stderr)
    assert got and got.group(2) != str(first), served_other.stderr  # its own server, with its own limits


def _start_spinning(sum_package: Path, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    """A served judge of a solution that spins to each test's time limit, once its box runs: (caller, fork pid)."""
    (tmp_path / "spin.cpp").write_text(SPIN)
    p = subprocess.Popen([sys.executable, "-m", "ioi_eval.cli", "-v", "judge", "--problem", str(sum_package),
                          "--solution", str(tmp_path / "spin.cpp"), "--no-cache"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stderr:
        got = SERVED.search(line)
        if got:
            fork = int(got.group(1))
            break
    else:
        raise AssertionError(f"not served (exit {p.wait()})")
    deadline = time.monotonic() + 120
    while not sandbox_processes(fork, zombies=False) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_processes(fork, zombies=False), "the spinning solution never ran"
    return p, fork


def _alive(pid: int) -> list[str]:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return []
    return [] if state == "Z" else [str(pid)]


def test_signals_reach_the_served_judge_and_a_dead_caller_ends_it(sum_package: Path, tmp_path: Path,
                                                                 served: dict[str, str]) -> None:
    (tmp_path / "s.cpp").write_text(CORRECT)
    _judge(served, "--problem", str(sum_package), "--solution", str(tmp_path / "s.cpp"))
    _socket_up(served)
    # Ctrl-C: the caller forwards it, and the judge stops with 130, as in-process.
    p, fork = _start_spinning(sum_package, tmp_path, served)
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=60) == 130, p.stderr.read()
    assert wait_until_gone(lambda: _alive(fork), 20) == []
    assert wait_until_gone(lambda: sandbox_processes(fork), 20) == []
    # The caller killed: the judge ends too, and so does every box it ran.
    p, fork = _start_spinning(sum_package, tmp_path, served)
    p.kill()
    p.wait(timeout=30)
    assert wait_until_gone(lambda: _alive(fork), 20) == []
    assert wait_until_gone(lambda: sandbox_processes(fork, zombies=False), 20) == []


def test_an_idle_server_ends_and_a_dead_one_is_replaced(sum_package: Path, tmp_path: Path,
                                                        served: dict[str, str]) -> None:
    (tmp_path / "s.cpp").write_text(CORRECT)
    args = ("--problem", str(sum_package), "--solution", str(tmp_path / "s.cpp"), "--json")
    runtime = Path(served["XDG_RUNTIME_DIR"])
    # Killed outright: its socket is left behind; the next caller judges in-process and starts a new server.
    _judge(served, *args)
    [sock] = _socket_up(served)
    [dead] = _servers(runtime)
    os.kill(dead, signal.SIGKILL)
    assert wait_until_gone(lambda: _alive(dead), 20) == []
    assert sock.exists()
    res = _judge(served, *args)
    assert res.returncode == 0 and not SERVED.search(res.stderr) and _verdicts(res.stdout)[0] == 100.0, res.stderr
    deadline = time.monotonic() + 60
    while [p for p in _servers(runtime) if p != dead] == [] and time.monotonic() < deadline:
        time.sleep(0.05)
    [fresh] = _servers(runtime)
    assert fresh != dead
    deadline = time.monotonic() + 60
    while not SERVED.search(_judge(served, *args).stderr):  # up once it answers
        assert time.monotonic() < deadline, "the replacement server never answered"
    # Idle for its idle time: it ends and takes its socket with it.
    for pid in _servers(runtime):
        os.kill(pid, signal.SIGTERM)
    assert wait_until_gone(lambda: [str(p) for p in _servers(runtime)], 20) == []
    quick = {**served, IDLE_ENV: "1"}
    _judge(quick, *args)
    _socket_up(quick)
    assert wait_until_gone(lambda: [str(p) for p in _servers(runtime)], 30) == []
    assert list(runtime.glob("*/*.sock")) == []


def test_a_server_whose_socket_is_gone_ends(sum_package: Path, tmp_path: Path, served: dict[str, str]) -> None:
    """Its socket removed (a cleaned runtime folder), a server can serve no one: it ends instead of idling."""
    (tmp_path / "s.cpp").write_text(CORRECT)
    _judge(served, "--problem", str(sum_package), "--solution", str(tmp_path / "s.cpp"))
    [sock] = _socket_up(served)
    [pid] = _servers(Path(served["XDG_RUNTIME_DIR"]))
    sock.unlink()
    assert wait_until_gone(lambda: _alive(pid), 20) == []


def test_a_socket_folder_others_can_enter_is_not_used(sum_package: Path, tmp_path: Path,
                                                      served: dict[str, str]) -> None:
    folder = Path(served["XDG_RUNTIME_DIR"]) / f"ioi-eval-judge-{os.geteuid()}"
    folder.mkdir()
    folder.chmod(0o777)
    (tmp_path / "s.cpp").write_text(CORRECT)
    res = _judge(served, "--problem", str(sum_package), "--solution", str(tmp_path / "s.cpp"), "--json")
    assert res.returncode == 0 and _verdicts(res.stdout)[0] == 100.0
    assert "judge server not used" in res.stderr and "not a private folder" in res.stderr, res.stderr
    assert list(folder.iterdir()) == []


def test_a_bad_setting_is_a_clear_error() -> None:
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "--problem", "x", "--solution", "y"],
                         capture_output=True, text=True, env={**os.environ, ENABLE_ENV: "maybe"}, timeout=60)
    assert res.returncode == 2 and res.stderr.strip() == f"error: ${ENABLE_ENV} must be 1 or 0, not 'maybe'"


def test_a_bad_idle_time_is_a_clear_error(served: dict[str, str]) -> None:
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "--problem", "x", "--solution", "y"],
                         capture_output=True, text=True, env={**served, IDLE_ENV: "soon"}, timeout=60)
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip() == f"error: ${IDLE_ENV} must be a positive number of seconds, not 'soon'"
    assert _servers(Path(served["XDG_RUNTIME_DIR"])) == []


def test_only_judge_is_served() -> None:
    assert command_of(["-v", "judge", "--json"]) == "judge"
    assert command_of(["--quiet", "run", "judge"]) == "run"
    assert command_of(["--version"]) is None and command_of([]) is None
