"""ioi_box._native.run / cgroup_setup: every spec field, every limit, containment and cleanup."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

RESULT_KEYS = {
    "exit_code",
    "signal",
    "cpu_s",
    "user_s",
    "sys_s",
    "wall_s",
    "wait_s",
    "memory_bytes",
    "oom_killed",
    "cpu_limit_hit",
    "wall_limit_hit",
    "setup_error",
    "setup_cpu_s",
}


def run1(native, **spec):
    (r,) = native.run([spec])
    assert set(r) == RESULT_KEYS
    return r


def parse_inspect(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        out.setdefault(k, []).append(v)
    return out


@pytest.fixture(params=["default", "poll", "fork"])
def mode(request, native):
    """Launch/wait paths: pidfd + vfork-style clone (default), WNOHANG polling, plain fork()."""
    native._set_fallbacks(no_pidfd=request.param == "poll", no_vfork=request.param == "fork")
    yield request.param
    native._set_fallbacks(no_pidfd=False, no_vfork=False)


@pytest.fixture(autouse=True)
def no_leftover_groups(run_groups):
    """Every test must leave no per-run cgroup behind."""
    yield
    assert run_groups() == []


# ---------------------------------------------------------------------------------------------
# cgroup_setup
# ---------------------------------------------------------------------------------------------


def test_cgroup_setup_shape_and_idempotent(native, cg):
    assert set(cg) == {"version", "memory", "cpu", "pids", "paths", "reason"}
    assert cg["version"] in (0, 1, 2)
    assert native.cgroup_setup() == cg
    assert native.cgroup_setup("other-name") == cg  # first setup wins within a process
    if cg["version"] == 0:
        assert cg["reason"]
        assert cg["paths"] == {}
    else:
        for ctrl, path in cg["paths"].items():
            assert ctrl in ("memory", "cpu", "pids") and cg[ctrl]
            assert os.path.isdir(path)
            assert os.path.basename(path) == f"ioi-eval-{os.getpid()}"


def test_groups_of_a_dead_harness_are_removed_by_name_and_own_ones_at_exit(need_cgroup, tmp_path):
    """cgroup_remove(name) takes another harness's groups (the caller found it dead: ioi_box.ownership);
    nothing is removed by guessing from a pid, and a harness's own groups vanish at its normal exit."""
    name = "ioi-eval-stale-test"
    # A harness that crashes after setup leaves its groups behind...
    crashed = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import os; from ioi_box import _native as n; print(repr(n.cgroup_setup({name!r})['paths'])); os._exit(0)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    paths = eval(crashed.stdout)
    assert paths and all(os.path.isdir(p) for p in paths.values())
    # ...with a per-run group inside, even.
    for p in paths.values():
        os.makedirs(os.path.join(p, "7"), exist_ok=True)
    # A later harness that merely sets up leaves them alone; told to remove them, it does; its own groups go at exit.
    clean = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from ioi_box import _native as n; own = n.cgroup_setup('ioi-eval-clean-test'); "
            f"print(all(os.path.isdir(p) for p in {paths!r}.values())); print(n.cgroup_remove({name!r})); "
            "print(n.cgroup_remove('ioi-eval-clean-test'), n.cgroup_remove('..'), n.cgroup_remove('a/b')); "
            "print(repr(own['paths']))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    still_there, removed, own_and_bad, own_paths = clean.stdout.splitlines()
    assert still_there == "True"
    assert int(removed) == len(set(paths.values()))
    assert own_and_bad == "0 0 0"  # never its own groups, never a path
    assert not any(os.path.exists(p) for p in paths.values())
    assert not any(os.path.exists(p) for p in eval(own_paths).values())


def test_cgroup_cleanup_then_setup_again(need_cgroup):
    script = textwrap.dedent(
        """
        import os
        from ioi_box import _native as n
        a = n.cgroup_setup("ioi-eval-cleanup-test")
        n.cgroup_cleanup()
        assert not any(os.path.exists(p) for p in a["paths"].values())
        n.cgroup_cleanup()  # twice is fine
        b = n.cgroup_setup("ioi-eval-cleanup-test")
        assert b == a and all(os.path.isdir(p) for p in b["paths"].values())
        r = n.run([{"argv": ["/bin/true"]}])[0]
        assert r["exit_code"] == 0, r
        n.cgroup_cleanup()
        assert not any(os.path.exists(p) for p in b["paths"].values())
        print("ok")
        """
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr


# ---------------------------------------------------------------------------------------------
# Basic fields
# ---------------------------------------------------------------------------------------------


def test_exit_codes_and_signals(native, progs, cg, mode):
    r = run1(native, argv=[progs["true"]])
    assert (r["exit_code"], r["signal"], r["setup_error"]) == (0, None, None)
    assert not (r["oom_killed"] or r["cpu_limit_hit"] or r["wall_limit_hit"])
    assert r["wall_s"] > 0
    # without a memory cgroup a run this short may finish before any RSS sample
    assert r["memory_bytes"] > 0 or not cg["memory"]
    assert run1(native, argv=[progs["exit_with"], "42"])["exit_code"] == 42
    r = run1(native, argv=[progs["abort"]])
    assert (r["exit_code"], r["signal"]) == (None, signal.SIGABRT)


def test_argv_env_cwd_are_exact(native, progs, tmp_path):
    out = tmp_path / "out"
    r = run1(
        native,
        argv=[progs["inspect"], "a b", "", "ü"],
        env=["A=1", "EMPTY="],
        cwd=str(tmp_path),
        stdout=str(out),
    )
    assert r["exit_code"] == 0, r
    info = parse_inspect(out.read_text())
    assert info["argv"] == [progs["inspect"], "a b", "", "ü"]
    assert info["env"] == ["A=1", "EMPTY="]  # nothing inherited
    assert info["cwd"] == [str(tmp_path)]


def test_no_env_means_empty_environment(native, progs, tmp_path):
    out = tmp_path / "out"
    run1(native, argv=[progs["inspect"]], stdout=str(out))
    assert "env" not in parse_inspect(out.read_text())


def test_child_process_state(native, progs, tmp_path, mode):
    """New session/process group, default dispositions (Python ignores SIGPIPE), empty mask,
    only fds 0-2 open (an inheritable fd of ours must not leak), stack unlimited, no core."""
    leak = os.open(os.devnull, os.O_RDONLY)
    os.set_inheritable(leak, True)
    try:
        out = tmp_path / "out"
        r = run1(native, argv=[progs["inspect"]], stdout=str(out))
    finally:
        os.close(leak)
    assert r["exit_code"] == 0
    info = parse_inspect(out.read_text())
    pid, _, pgid, _, sid = info["pid"][0].split()
    assert pid == pgid == sid
    assert info["sigpipe_default"] == ["1"] and info["sigint_default"] == ["1"]
    assert info["blocked"] == ["0"]
    assert sorted(info["fd"]) == ["0", "1", "2"]
    assert info["stack"] == ["-1 -1"]
    assert info["core"] == ["0 0"]


def test_stdio_redirection(native, progs, tmp_path):
    (tmp_path / "in").write_text("hello\nworld\n")
    r = run1(
        native,
        argv=[progs["cat"]],
        stdin=str(tmp_path / "in"),
        stdout=str(tmp_path / "out"),
        stderr=str(tmp_path / "err"),
    )
    assert r["exit_code"] == 0
    assert (tmp_path / "out").read_text() == "hello\nworld\n"
    assert (tmp_path / "err").read_text() == "err\n"
    assert oct((tmp_path / "out").stat().st_mode & 0o777) == oct(0o644 & ~_umask())
    # truncation, shared file for stdout+stderr, os.PathLike paths
    r = run1(native, argv=[progs["cat"]], stdin=tmp_path / "in", stdout=tmp_path / "out", stderr=tmp_path / "out")
    # one shared file description: nothing overwritten (stdout is flushed at exit, after stderr)
    assert sorted((tmp_path / "out").read_text().splitlines()) == ["err", "hello", "world"]
    # None = /dev/null: reading gets EOF at once
    r = run1(native, argv=[progs["cat"]], stdout=str(tmp_path / "out2"))
    assert (tmp_path / "out2").read_text() == ""


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_fifo_pair_runs_concurrently(native, progs, tmp_path, mode):
    """Manager/user over FIFOs: opening a FIFO blocks until its peer opens it, which must not
    block the launcher (it would deadlock: the peer is launched after)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "in").write_text("through the fifo\n")
    writer = {"argv": [progs["cat"]], "stdin": str(tmp_path / "in"), "stdout": str(fifo), "wall_limit_s": 10}
    reader = {"argv": [progs["cat"]], "stdin": str(fifo), "stdout": str(tmp_path / "out"), "wall_limit_s": 10}
    t = time.monotonic()
    rw, rr = native.run([writer, reader])
    assert time.monotonic() - t < 5
    assert rw["exit_code"] == 0 and rr["exit_code"] == 0, (rw, rr)
    assert (tmp_path / "out").read_text() == "through the fifo\n"


def test_specs_start_concurrently(native, progs, mode):
    t = time.monotonic()
    res = native.run([{"argv": [progs["sleep"], "0.5"]} for _ in range(4)])
    assert [r["exit_code"] for r in res] == [0] * 4
    assert time.monotonic() - t < 1.4


def test_empty_spec_list(native):
    assert native.run([]) == []


# ---------------------------------------------------------------------------------------------
# Setup errors and argument validation
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"argv": ["/nonexistent/binary"]}, "execve /nonexistent/binary: No such file"),
        ({"argv": ["/proc/version"]}, "execve /proc/version: Permission denied"),
        ({"argv": ["/bin/true"], "stdin": "/nonexistent/in"}, "open stdin /nonexistent/in"),
        ({"argv": ["/bin/true"], "stdout": "/nonexistent/dir/out"}, "open stdout /nonexistent/dir/out"),
        ({"argv": ["/bin/true"], "stderr": "/nonexistent/dir/err"}, "open stderr"),
        ({"argv": ["/bin/true"], "cwd": "/nonexistent"}, "chdir /nonexistent"),
    ],
)
def test_setup_errors(native, spec, fragment, mode):
    r = run1(native, **spec)
    assert r["setup_error"] and fragment in r["setup_error"], r
    assert r["exit_code"] is None and r["signal"] is None


def test_setup_error_does_not_affect_siblings(native, progs):
    bad, good = native.run([{"argv": ["/nonexistent"]}, {"argv": [progs["exit_with"], "5"]}])
    assert bad["setup_error"] and good["exit_code"] == 5 and good["setup_error"] is None


@pytest.mark.parametrize(
    ("spec", "exc"),
    [
        ({}, ValueError),
        ({"argv": []}, ValueError),
        ({"argv": ["/bin/true"], "cpu_limit": 1}, ValueError),  # typo: unknown key
        ({"argv": ["/bin/true"], "cpu_limit_s": -1}, ValueError),
        ({"argv": ["/bin/true"], "memory_limit_bytes": "1G"}, TypeError),
        ({"argv": ["/bin/true"], "stdout": 3}, TypeError),
        ({"argv": ["/bin/tr\0ue"]}, ValueError),
        ({"argv": ["/bin/true"], "box": {"bind": []}}, ValueError),  # typo: unknown box key
        ({"argv": ["/bin/true"], "box": {"binds": [("/bin/true", "/box/x")]}}, ValueError),  # no writable flag
        ({"argv": ["/bin/true"], "box": []}, TypeError),
    ],
)
def test_bad_specs_raise(native, spec, exc):
    with pytest.raises(exc):
        native.run([spec])


# ---------------------------------------------------------------------------------------------
# CPU and wall time
# ---------------------------------------------------------------------------------------------


def test_cpu_time_measured(native, progs):
    r = run1(native, argv=[progs["burn"], "0.3"])
    assert r["exit_code"] == 0
    assert 0.25 < r["cpu_s"] < 0.6, r
    assert 0.25 < r["user_s"] + r["sys_s"] < 0.6, r  # clock() may be a real syscall (VMs): sys time
    assert not r["cpu_limit_hit"]


@pytest.mark.parametrize("use_cgroup", [True, False])
def test_cpu_limit_spin(native, progs, cg, use_cgroup, mode):
    r = run1(native, argv=[progs["spin"]], cpu_limit_s=0.5, wall_limit_s=10, use_cgroup=use_cgroup)
    assert r["cpu_limit_hit"] and not r["wall_limit_hit"], r
    assert r["signal"] == signal.SIGKILL  # killed by the poller, long before RLIMIT_CPU's SIGXCPU at 2 s
    assert 0.5 <= r["cpu_s"] < 0.8, r
    assert r["wall_s"] < 5


def test_cpu_limit_whole_tree_only_cgroup_catches(native, progs, need_cgroup):
    """Two spinning processes: each stays under RLIMIT_CPU (2 s soft at limit 1 s), the tree
    does not. Only the cgroup's counter sees the sum."""
    if not need_cgroup["cpu"]:
        pytest.skip("no CPU accounting cgroup")
    r = run1(native, argv=[progs["spin"], "2"], cpu_limit_s=1.0, wall_limit_s=10)
    assert r["cpu_limit_hit"] and r["signal"] == signal.SIGKILL, r
    # RLIMIT_CPU would have sent SIGXCPU at 2 s of CPU per process: this was the tree counter
    assert 1.0 <= r["cpu_s"] < 1.4, r


def test_cpu_rlimit_backstop(native, progs, tmp_path):
    out = tmp_path / "out"
    run1(native, argv=[progs["inspect"]], cpu_limit_s=1.5, stdout=str(out))
    assert parse_inspect(out.read_text())["cpu"] == [f"{math.ceil(1.5) + 1} {math.ceil(1.5) + 2}"]


def test_sigxcpu_counts_as_cpu_limit(native, progs):
    # A poll interval longer than the run: only RLIMIT_CPU (ceil(0.2)+1 = 2 s) can stop it.
    r = native.run([{"argv": [progs["spin"]], "cpu_limit_s": 0.2, "use_cgroup": False}], poll_interval_s=30)[0]
    assert r["signal"] == signal.SIGXCPU and r["cpu_limit_hit"], r


def test_wall_limit(native, progs, mode):
    r = run1(native, argv=[progs["sleep"], "10"], wall_limit_s=0.3)
    assert r["wall_limit_hit"] and not r["cpu_limit_hit"], r
    assert r["signal"] == signal.SIGKILL
    assert 0.3 <= r["wall_s"] < 2.0
    assert r["cpu_s"] < 0.1


@pytest.fixture
def loaded_cpu(progs):
    """A machine busy beyond its means, seen by this test: this thread (hence the runs it launches) and six
    spinning processes, each in a session (so an autogroup) of its own, share one CPU."""
    cpu = min(os.sched_getaffinity(0))
    old = os.sched_getaffinity(0)

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    spinners = [subprocess.Popen([progs["spin"]], preexec_fn=pin, start_new_session=True) for _ in range(6)]
    os.sched_setaffinity(0, {cpu})
    try:
        time.sleep(0.2)
        yield cpu
    finally:
        os.sched_setaffinity(0, old)
        for p in spinners:
            p.kill()
            p.wait()


@pytest.mark.parametrize("use_cgroup", [True, False])
def test_run_queue_wait_does_not_count_against_the_wall_limit(native, progs, cg, loaded_cpu, use_cgroup):
    """0.5 s of CPU under a 1 s wall limit, on a CPU shared seven ways: it needs about 3.5 s of wall time, most of
    it waiting for the CPU. That wait extends the deadline, so the run ends normally and reports it."""
    r = run1(native, argv=[progs["burn"], "0.5"], cpu_limit_s=1.0, wall_limit_s=1.0, use_cgroup=use_cgroup)
    assert r["exit_code"] == 0 and not r["wall_limit_hit"] and not r["cpu_limit_hit"], r
    assert r["wall_s"] > 1.0, r  # the load was real: without the wait's discount this was a wall-clock TLE
    assert r["wait_s"] > 0.5, r
    assert r["wall_s"] - r["wait_s"] < 1.0, r  # what is left is the run's own time


def test_sleeper_under_load_still_hits_the_wall_limit(native, progs, loaded_cpu, mode):
    """A sleeper is not runnable, so it accrues no run-queue wait: the load does not extend its deadline."""
    r = run1(native, argv=[progs["sleep"], "10"], cpu_limit_s=1.0, wall_limit_s=1.0)
    assert r["wall_limit_hit"] and not r["cpu_limit_hit"], r
    assert 1.0 <= r["wall_s"] < 2.0, r
    assert r["wait_s"] < 0.3, r


def test_a_tree_waiting_on_a_starved_partner_gets_its_wait(native, progs, cg, loaded_cpu):
    """Trees started together interact (a Communication manager blocks on its user): the partner that waits 2 s
    (for a user that needs about 3.5 s on this loaded CPU) is not wall-limited at 1 s, since the user's
    run-queue wait extends the deadline of every tree of the call."""
    partner, user = native.run([
        {"argv": [progs["sleep"], "2"], "cpu_limit_s": 1.0, "wall_limit_s": 1.0},
        {"argv": [progs["burn"], "0.5"], "cpu_limit_s": 1.0, "wall_limit_s": 10.0},
    ])
    assert user["exit_code"] == 0 and user["wait_s"] > 1.0, user
    assert partner["exit_code"] == 0 and not partner["wall_limit_hit"], partner
    assert partner["wait_s"] < 0.3, partner  # its own wait is reported, not the partner's


def test_without_a_cpu_limit_the_wall_limit_is_not_extended(native, progs, loaded_cpu):
    """Where the wall clock is the time limit (a wall-time judge profile), it stays as given: no CPU limit would
    bound what an extension buys (a tree's own threads competing for the CPUs accrue run-queue wait too)."""
    r = run1(native, argv=[progs["burn"], "0.5"], wall_limit_s=1.0)
    assert r["wall_limit_hit"] and r["wall_s"] < 1.5 and r["wait_s"] > 0.5, r


def test_wait_is_reported_and_small_when_idle(native, progs):
    r = run1(native, argv=[progs["burn"], "0.2"], cpu_limit_s=1.0, wall_limit_s=5.0)
    assert r["exit_code"] == 0 and 0.0 <= r["wait_s"] < r["wall_s"], r


def test_max_wait_factor_is_exported(native):
    from ioi_box.protocol import MAX_WAIT_FACTOR

    assert native.MAX_WAIT_FACTOR == MAX_WAIT_FACTOR > 1


# ---------------------------------------------------------------------------------------------
# Memory and stack
# ---------------------------------------------------------------------------------------------


def test_memory_peak_measured(native, progs, cg):
    r = run1(native, argv=[progs["alloc"], "64"], memory_limit_bytes=512 << 20)
    assert r["exit_code"] == 0 and not r["oom_killed"], r
    assert 64 << 20 <= r["memory_bytes"] < 200 << 20


@pytest.mark.parametrize("mode", ["default", "fork"], indirect=True)
def test_memory_without_cgroup_not_floored_by_launcher_rss(native, progs, mode):
    """Linux starts a child's ru_maxrss at the launcher's RSS (exec records the old mm's peak);
    without a memory cgroup the launcher must not report that as the contestant's memory."""
    ballast = bytearray(300 << 20)  # the launcher's own RSS: 300 MiB and more
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    r = run1(native, argv=[progs["true"]], use_cgroup=False)
    assert r["exit_code"] == 0 and r["memory_bytes"] < 64 << 20, r
    status = Path("/proc/self/status").read_text()
    own_hwm = int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) << 10
    r = run1(native, argv=[progs["alloc"], "400"], use_cgroup=False, stdout=os.devnull)
    assert r["exit_code"] == 0, r
    if own_hwm < 400 << 20:  # else ru_maxrss is ambiguous and only the sampled lower bound is reported
        assert r["memory_bytes"] >= 400 << 20, r
    del ballast


def test_memory_limit_cgroup_oom(native, progs, need_cgroup, tmp_path, mode):
    if not need_cgroup["memory"]:
        pytest.skip("no memory cgroup")
    r = run1(native, argv=[progs["alloc"], "256"], memory_limit_bytes=64 << 20, stdout=str(tmp_path / "o"))
    assert r["oom_killed"] and r["signal"] == signal.SIGKILL, r
    assert r["memory_bytes"] >= 60 << 20
    # the limit covers the tree: two processes of 48 MiB under a 64 MiB limit
    r = run1(native, argv=[progs["alloc"], "48", "2"], memory_limit_bytes=64 << 20, stdout=str(tmp_path / "o"))
    assert r["oom_killed"], r


def test_memory_limit_rlimit_as_without_cgroup(native, progs, tmp_path):
    out = tmp_path / "out"
    r = run1(native, argv=[progs["alloc"], "256"], memory_limit_bytes=64 << 20, use_cgroup=False, stdout=str(out))
    assert r["exit_code"] == 3 and not r["oom_killed"], r
    assert out.read_text() == "malloc failed\n"
    run1(native, argv=[progs["inspect"]], memory_limit_bytes=64 << 20, use_cgroup=False, stdout=str(out))
    assert parse_inspect(out.read_text())["as"] == [f"{64 << 20} {64 << 20}"]


def test_no_rlimit_as_with_memory_cgroup(native, progs, need_cgroup, tmp_path):
    if not need_cgroup["memory"]:
        pytest.skip("no memory cgroup")
    out = tmp_path / "out"
    run1(native, argv=[progs["inspect"]], memory_limit_bytes=64 << 20, stdout=str(out))
    assert parse_inspect(out.read_text())["as"] == ["-1 -1"]


@pytest.mark.parametrize("use_cgroup", [True, False])
def test_deep_recursion_within_memory_limit(native, progs, tmp_path, use_cgroup):
    out = tmp_path / "out"
    r = run1(
        native,
        argv=[progs["recurse"], "1000000"],
        memory_limit_bytes=1 << 30,
        stdout=str(out),
        use_cgroup=use_cgroup,
        wall_limit_s=20,
    )
    assert r["exit_code"] == 0, r
    assert out.read_text() == "done 0\n"


# ---------------------------------------------------------------------------------------------
# Files and descriptors
# ---------------------------------------------------------------------------------------------


def test_fsize_limit_sigxfsz(native, progs, tmp_path):
    out = tmp_path / "out"
    r = run1(native, argv=[progs["writer"], str(1 << 20)], fsize_bytes=100_000, stdout=str(out))
    assert r["signal"] == signal.SIGXFSZ, r
    assert out.stat().st_size == 100_000
    assert run1(native, argv=[progs["writer"], "1000"], fsize_bytes=100_000, stdout=str(out))["exit_code"] == 0


def test_nofile_limit(native, progs, tmp_path):
    out = tmp_path / "out"
    run1(native, argv=[progs["inspect"]], nofile=16, stdout=str(out))
    assert parse_inspect(out.read_text())["nofile"] == ["16 16"]


# ---------------------------------------------------------------------------------------------
# Credentials
# ---------------------------------------------------------------------------------------------


def test_uid_gid_drop(native, progs, public_tmp, cg):
    if os.geteuid() != 0:
        pytest.skip("needs root")
    out = public_tmp / "out"
    r = run1(native, argv=[progs["inspect"]], uid=65534, gid=65534, stdout=str(out), nproc=50)
    assert r["exit_code"] == 0, r
    info = parse_inspect(out.read_text())
    assert info["ids"] == ["65534 65534 65534 0"]  # uid euid gid, no supplementary groups
    assert info["nproc"] == ["50 50"]  # RLIMIT_NPROC only because the uid is not root
    # the output file was opened before the drop: created by root
    assert out.stat().st_uid == 0
    # without a drop, RLIMIT_NPROC stays as it was
    run1(native, argv=[progs["inspect"]], stdout=str(out), nproc=50)
    assert parse_inspect(out.read_text())["nproc"] != ["50 50"]


def test_uid_drop_setup_error_when_unprivileged(native, progs):
    if os.geteuid() != 0:
        pytest.skip("needs root to become nobody first")
    # import first: the interpreter's own files may not be readable by nobody
    script = (
        "import os; from ioi_box import _native as n; os.setgid(65534); os.setuid(65534); "
        f"print(n.run([{{'argv': [{progs['true']!r}], 'uid': 0}}])[0]['setup_error'])"
    )
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert "not root" in r.stdout, r.stderr


# ---------------------------------------------------------------------------------------------
# Processes: nproc, containment, nothing left behind
# ---------------------------------------------------------------------------------------------


def test_nproc_pids_max(native, progs, need_cgroup, tmp_path):
    if not need_cgroup["pids"]:
        pytest.skip("no pids cgroup")
    out = tmp_path / "out"
    r = run1(native, argv=[progs["fork_until_fail"]], nproc=10, stdout=str(out), wall_limit_s=10)
    assert r["exit_code"] == 0, r
    assert int(out.read_text()) == 9  # 10 tasks in all, the parent included


def test_fork_bomb_contained(native, progs, need_cgroup, pgrep):
    if not need_cgroup["pids"]:
        pytest.skip("no pids cgroup")
    r = run1(native, argv=[progs["forkbomb"]], nproc=32, wall_limit_s=1, cpu_limit_s=5)
    assert r["wall_limit_hit"] or r["cpu_limit_hit"], r
    assert pgrep(progs["forkbomb"]) == []


def test_escaped_grandchild_killed_by_cgroup(native, progs, need_cgroup, pgrep, mode):
    r = run1(native, argv=[progs["escape"]], wall_limit_s=10)
    assert r["exit_code"] == 0, r
    assert pgrep(progs["escape"]) == []


@pytest.mark.parametrize("use_cgroup", [True, False])
def test_orphan_in_process_group_killed(native, progs, pgrep, use_cgroup, mode):
    r = run1(native, argv=[progs["orphan"]], wall_limit_s=10, use_cgroup=use_cgroup)
    assert r["exit_code"] == 0, r
    assert pgrep(progs["orphan"]) == []


def test_tree_killed_on_limit(native, progs, pgrep):
    r = run1(native, argv=[progs["spin"], "3"], wall_limit_s=0.3)
    assert r["wall_limit_hit"]
    assert pgrep(progs["spin"]) == []


def test_run_groups_live_during_run_and_removed_after(native, progs, need_cgroup, run_groups, tmp_path):
    out = tmp_path / "out"
    run1(native, argv=[progs["inspect"]], stdout=str(out))
    lines = parse_inspect(out.read_text())["cgroup"]
    # the process was inside <parent>/<n> of every hierarchy
    inside = [line for line in lines if f"/ioi-eval-{os.getpid()}/" in line]
    if need_cgroup["version"] == 1:
        ctrls = {c for line in inside for c in line.split(":")[1].split(",")}
        wanted = {"memory": "memory", "cpu": "cpuacct", "pids": "pids"}
        assert {wanted[k] for k in need_cgroup["paths"]} <= ctrls, lines
    else:
        assert any(line.startswith("0::") for line in inside), lines
    assert run_groups() == []


# ---------------------------------------------------------------------------------------------
# Threads and interruption
# ---------------------------------------------------------------------------------------------


def test_concurrent_calls_from_threads(native, progs, mode):
    errors: list[str] = []

    def worker(i: int) -> None:
        for j in range(5):
            r = native.run([{"argv": [progs["exit_with"], str(i * 10 + j)]}])[0]
            if r["exit_code"] != i * 10 + j:
                errors.append(f"{i},{j}: {r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_gil_released_while_waiting(native, progs):
    t = time.monotonic()
    threads = [threading.Thread(target=native.run, args=([{"argv": [progs["sleep"], "0.5"]}],)) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert time.monotonic() - t < 1.4


def test_keyboard_interrupt_kills_everything(native, progs, pgrep, run_groups, cg, mode):
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are handled in the main thread only")
    specs = [{"argv": [progs["spin"], "3"]}, {"argv": [progs["sleep"], "30"]}]
    if cg["version"]:
        specs.append({"argv": [progs["escape"]]})  # only a cgroup can catch its grandchild
    timer = threading.Timer(0.3, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    t = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        native.run(specs)
    timer.join()
    assert time.monotonic() - t < 3
    for name in ("spin", "sleep", "escape"):
        assert pgrep(progs[name]) == []
    assert run_groups() == []


def test_launcher_death_kills_child(native, progs, pgrep, tmp_path, cg):
    """PR_SET_PDEATHSIG: a SIGKILLed harness does not leave its contestant running."""
    marker = tmp_path / "sleep-marker"
    os.symlink(progs["sleep"], marker)
    script = (
        "import sys; from ioi_box import _native as n; n.cgroup_setup(); "
        f"print('go', flush=True); n.run([{{'argv': [{str(marker)!r}, '100']}}])"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "go"
    deadline = time.monotonic() + 5
    while not pgrep(str(marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pgrep(str(marker))
    p.kill()
    p.wait()
    deadline = time.monotonic() + 5
    while pgrep(str(marker)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert pgrep(str(marker)) == []
    # its groups are left behind; a harness that knows it dead removes them by name
    stale = [os.path.join(os.path.dirname(path), f"ioi-eval-{p.pid}") for path in cg["paths"].values()]
    assert native.cgroup_remove(f"ioi-eval-{p.pid}") == len(set(stale))
    assert not any(os.path.exists(s) for s in stale)


# ---------------------------------------------------------------------------------------------
# Network namespace and reaper-aware kills
# ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="a new network namespace needs root")
def test_new_netns_has_only_a_loopback_that_is_down(native, progs, tmp_path):
    out = tmp_path / "ifaces.txt"
    r = native.run([{"argv": [progs["ifaces"]], "stdout": str(out), "new_netns": True}])[0]
    assert r["exit_code"] == 0, r
    assert out.read_text().split("\n")[:-1] == ["lo down"]
    r = native.run([{"argv": [progs["ifaces"]], "stdout": str(out)}])[0]
    assert len(out.read_text().splitlines()) >= 1  # the host's interfaces, for contrast


@pytest.mark.parametrize("uid", [-1, 4000123])
def test_userns_netns_has_only_a_loopback_that_is_down(native, progs, tmp_path, uid):
    """Without CAP_SYS_ADMIN (root in a container, or not root): a user namespace of the run's own uid."""
    if uid >= 0 and os.geteuid() != 0:
        pytest.skip("a uid change needs root")
    out = tmp_path / "ifaces.txt"
    out.touch()
    os.chmod(tmp_path, 0o777)
    os.chmod(out, 0o666)
    r = native.run([{"argv": [progs["ifaces"]], "stdout": str(out), "userns_netns": True, "uid": uid,
                     "gid": uid}])[0]
    assert r["exit_code"] == 0 and not r["setup_error"], r
    assert out.read_text().split("\n")[:-1] == ["lo down"]


@pytest.mark.skipif(os.geteuid() == 0, reason="only meaningful without root")
def test_new_netns_without_root_is_a_setup_error(native, progs):
    r = native.run([{"argv": [progs["true"]], "new_netns": True}])[0]
    assert "not root" in (r["setup_error"] or "")


@pytest.mark.parametrize("use_cgroup", [True, False])
def test_reaper_kill_lets_the_reaper_reap(native, progs, use_cgroup):
    """With reaper=True the descendants die first and the reaper exits by itself (128+9)."""
    spec = {"argv": [progs["reaper"], progs["spin"]], "wall_limit_s": 0.4, "use_cgroup": use_cgroup,
            "reaper": True}
    r = native.run([spec])[0]
    assert r["wall_limit_hit"] and r["exit_code"] == 128 + signal.SIGKILL, r
    r = native.run([{**spec, "reaper": False}])[0]
    assert r["wall_limit_hit"] and r["signal"] == signal.SIGKILL, r


def test_extra_fds_are_inherited_at_fd_3(native, progs, tmp_path):
    data = tmp_path / "seccomp.bin"
    data.write_bytes(b"filter bytes")
    out = tmp_path / "out"
    r = native.run([{"argv": [progs["fd3"]], "stdout": str(out), "extra_fds": [str(data)]}])[0]
    assert r["exit_code"] == 0, r
    assert out.read_bytes() == b"filter bytes"
    r = native.run([{"argv": [progs["fd3"]], "stdout": str(out)}])[0]
    assert r["exit_code"] == 5, r  # without extra_fds nothing leaks in at fd 3
    r = native.run([{"argv": [progs["fd3"]], "extra_fds": [str(tmp_path / "missing")]}])[0]
    assert "open extra fd" in (r["setup_error"] or ""), r


# A stand-in for bubblewrap: the direct child forks the "sandbox", which burns SETUP s of CPU, then
# blocks reading the hold fd (bwrap --block-fd), then burns RUN s of CPU as "the program".
HELD = textwrap.dedent("""
    import os, sys, time
    setup, run, fd = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    def burn(s):
        t = time.process_time()
        while time.process_time() - t < s:
            pass
    pid = os.fork()
    if pid == 0:
        burn(setup)
        if os.read(fd, 1) != b"g":
            os._exit(3)
        burn(run)
        os._exit(0)
    _, st = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(st))
""")


def held(setup: float, run: float, fd: int = 3, **spec) -> dict:
    return {"argv": [sys.executable, "-c", HELD, str(setup), str(run), str(fd)], "hold_setup": True,
            "wall_limit_s": 20, **spec}


def test_hold_setup_leaves_the_setups_cpu_out(native, need_cgroup, mode):
    """The tree's CPU until it blocks on the hold fd is setup_cpu_s, not cpu_s, and not limited."""
    r = run1(native, **held(0.2, 0.0, cpu_limit_s=0.1))
    assert r["exit_code"] == 0 and not r["cpu_limit_hit"], r
    assert r["setup_cpu_s"] >= 0.2 and r["cpu_s"] < 0.1, r
    r = run1(native, **held(0.05, 0.25))  # what runs after the release is all counted
    assert r["exit_code"] == 0 and r["cpu_s"] >= 0.25 and 0.05 <= r["setup_cpu_s"] < 0.25, r
    r = run1(native, **held(0.05, 5.0, cpu_limit_s=0.2))
    assert r["cpu_limit_hit"] and 0.2 <= r["cpu_s"] < 1.5, r


def test_hold_setup_fd_follows_the_extra_fds(native, need_cgroup, tmp_path):
    data = tmp_path / "extra"
    data.write_bytes(b"x")
    r = run1(native, **held(0.05, 0.0, fd=4, extra_fds=[str(data)]))
    assert r["exit_code"] == 0 and r["setup_cpu_s"] >= 0.05, r
    r = run1(native, **held(0.0, 0.0, extra_fds=[str(data)] * 4))
    assert "hold_setup needs a free fd" in (r["setup_error"] or ""), r


def test_hold_setup_without_a_cpu_cgroup_releases_at_once(native):
    """No counter to read at the block point: released at once, everything counted as before."""
    r = run1(native, **held(0.05, 0.0, use_cgroup=False))
    assert r["exit_code"] == 0 and r["setup_cpu_s"] == 0 and r["wall_s"] < 5, r


# ---------------------------------------------------------------------------------------------
# The zygote sandbox (spec "box"); its security properties are tests/system/test_sandbox.py's
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zygote(native):
    if os.geteuid() != 0:
        pytest.skip("the zygote sandbox needs root")
    links = [(d, os.readlink(d)) for d in ("/bin", "/lib", "/lib64") if os.path.islink(d)]
    why = native.ns_setup([("/usr", ""), *links])
    if why:
        pytest.skip(f"no zygote here: {why}")
    return native


@pytest.mark.parametrize("inside", ["box/x", "/box/../etc/x", "/box/./x", "/box/", "/"])
def test_box_refuses_bad_inside_paths(zygote, progs, inside):
    r = run1(zygote, argv=["/box/x"], uid=250001, gid=250001, box={"binds": [(progs["true"], inside, False)]})
    assert r["setup_error"] and "bad inside path" in r["setup_error"], r


def test_box_reports_the_programs_status_and_tree_cpu(zygote, progs):
    """The box's init reaps the program: its exit code and signal as they are, and its CPU without a cgroup."""
    box = {"binds": [(progs["exit_with"], "/box/p", False)]}
    r = run1(zygote, argv=["/box/p", "200"], uid=250002, gid=250002, box=box, use_cgroup=False)
    assert r["exit_code"] == 200 and r["signal"] is None, r  # not a 128+N encoding
    r = run1(zygote, argv=["/box/p"], uid=250002, gid=250002, box={"binds": [(progs["abort"], "/box/p", False)]})
    assert r["signal"] == 6 and r["exit_code"] is None, r
    r = run1(zygote, argv=["/box/b", "0.2"], uid=250002, gid=250002, use_cgroup=False,
             box={"binds": [(progs["burn"], "/box/b", False)]})
    assert r["exit_code"] == 0 and r["cpu_s"] >= 0.19 and r["setup_cpu_s"] < 0.1, r


def test_box_setup_errors_name_the_step(zygote, tmp_path):
    r = run1(zygote, argv=["/box/missing"], uid=250003, gid=250003, box={"binds": []})
    assert r["setup_error"].startswith("execve"), r
    box = {"binds": [(str(tmp_path / "nope"), "/box/x", False)]}
    r = run1(zygote, argv=["/box/x"], uid=250003, gid=250003, box=box)
    assert r["setup_error"].startswith("open_tree"), r


def _box_inits() -> list[str]:
    """``pid state`` of every child of this process that is pid 1 of a pid namespace of its own (a box's init)."""
    out = []
    for task in Path("/proc/self/task").iterdir():
        try:
            kids = (task / "children").read_text().split()
        except OSError:
            continue
        for pid in kids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            nspid = fields.get("NSpid", "").split()
            if len(nspid) > 1 and nspid[-1] == "1":
                out.append(f"{pid} {fields.get('State', '?').split()[0]}")
    return out


def test_box_inits_are_reaped_after_their_runs(zygote, progs):
    """A run ends on its init's report, before the init's own exit (the teardown of the box's namespaces),
    which a launcher thread then reaps: many runs in a row leave no init behind, live or zombie."""
    box = {"binds": [(progs["true"], "/box/t", False)]}
    for _ in range(40):
        r = run1(zygote, argv=["/box/t"], uid=250004, gid=250004, box=box)
        assert r["exit_code"] == 0 and r["setup_error"] is None, r
    deadline = time.monotonic() + 5
    while _box_inits() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _box_inits() == []
