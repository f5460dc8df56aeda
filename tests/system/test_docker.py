"""The Docker backend: the judge containers' properties, their life cycle, and clear errors.

Tests that need an engine and the judge image skip without them, and fail under
``IOI_EVAL_STRICT=1`` (CI runs ``scripts/setup-docker`` first).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ioi_box.protocol import Batch, Limits, Proc, RunJob

from ioi_eval.backends.docker import DockerBackend, DockerChannel
from ioi_eval.backends.docker_engine import DEFAULT_IMAGE, engine_available, image_exists
from ioi_eval.backends.docker_security import DENIED, seccomp_profile
from ioi_eval.backends.remote import RemoteBox
from ioi_eval.errors import DockerError
from tests.fixtures.strict import require


def _docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120, check=check)


def _ready() -> None:
    require(engine_available(), "no Docker engine answers (scripts/setup-docker starts one)")
    require(image_exists(DEFAULT_IMAGE), f"the judge image {DEFAULT_IMAGE} is missing (ioi-eval sandbox build)")


@pytest.fixture
def box() -> Iterator[RemoteBox]:
    _ready()
    b = DockerBackend().open(1)
    try:
        yield b
    finally:
        b.close()


def _containers(box: RemoteBox) -> list[str]:
    return [s.channel.container for s in box.pool.slots if isinstance(s.channel, DockerChannel)]


def _listed(name: str) -> bool:
    return name in _docker("ps", "-a", "--format", "{{.Names}}").stdout.split()


def test_engine_down_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require(subprocess.run(["which", "docker"], capture_output=True).returncode == 0, "no docker client")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    with pytest.raises(DockerError, match=r"not running or not reachable.*start it with"):
        DockerBackend().open(1)


def test_cli_reports_engine_down(tmp_path: Path) -> None:
    require(subprocess.run(["which", "docker"], capture_output=True).returncode == 0, "no docker client")
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock", "COLUMNS": "300"}
    src = tmp_path / "s.cpp"
    src.write_text("int main(){}\n")
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "-p", "problems/pairsum", "-s", str(src),
                          "--backend", "docker"], capture_output=True, text=True, env=env, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Docker engine" in res.stderr and "Traceback" not in res.stderr


def test_seccomp_profile_refuses_the_deny_list() -> None:
    profile = json.loads(seccomp_profile("x86_64"))
    assert profile["architectures"] == ["SCMP_ARCH_X86_64"]
    (rule,) = profile["syscalls"]
    assert rule["action"] == "SCMP_ACT_ERRNO" and set(rule["names"]) == set(DENIED)
    assert {"ptrace", "bpf", "keyctl", "userfaultfd", "io_uring_setup"} <= set(DENIED)
    # bubblewrap and the zygote (its namespaces made inside a user namespace) need them
    assert not {"unshare", "mount", "clone", "pivot_root", "setns", "open_tree", "move_mount", "mount_setattr"} \
        & set(DENIED)


def test_container_is_locked_down(box: RemoteBox) -> None:
    (name,) = _containers(box)
    host = json.loads(_docker("inspect", name).stdout)[0]["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"]
    assert sorted(c.removeprefix("CAP_") for c in host["CapAdd"]) == ["KILL", "SETGID", "SETUID"]
    assert "no-new-privileges" in host["SecurityOpt"]
    assert host["Memory"] > 0 and host["PidsLimit"] > 0 and host["NanoCpus"] > 0
    # From inside: only the loopback interface, a read-only root, no capabilities but SETUID,
    # SETGID and KILL (each run gets a fresh uid, which the executor must be able to kill),
    # no-new-privileges, seccomp on.
    probe = ("import os, socket; print(sorted(n for _, n in socket.if_nameindex())); "
             "st = dict(l.split(':', 1) for l in open('/proc/1/status')); "
             "print(st['CapEff'].strip(), st['CapBnd'].strip(), st['NoNewPrivs'].strip(), st['Seccomp'].strip()); "
             "print(os.getuid())")
    out = _docker("exec", name, "python3", "-c", probe).stdout.split("\n")
    assert out[0] == "['lo']"
    assert out[1].split() == ["00000000000000e0", "00000000000000e0", "1", "2"]
    assert out[2] == "0"
    touch = _docker("exec", name, "touch", "/usr/evil", check=False)
    assert touch.returncode != 0 and "Read-only file system" in touch.stderr


def test_runs_get_their_own_uid_and_no_network(box: RemoteBox) -> None:
    w = box.new_dir()
    py = ("import os, socket; s = socket.socket(); "
          "print(os.getuid(), sorted(n for _, n in socket.if_nameindex()), s.connect_ex(('127.0.0.1', 9)))")
    job = RunJob(procs=[Proc(argv=["/usr/bin/python3", "-c", py], stdout=f"{w}/out", rw_binds={"/box": w},
                             capture_stdout=200, limits=Limits(cpu_s=2, wall_s=10))])
    res = box.execute(Batch(jobs=[job])).results[0].procs[0]
    box.remove([w])
    uid, ifaces, connect = res.stdout.split()
    assert res.status.value == "OK" and int(uid) >= 200000, res
    assert ifaces == "['lo']" and int(connect) != 0, res  # only a loopback, and it is down


def test_runs_get_per_run_cgroups_inside(box: RemoteBox) -> None:
    info = box.info
    if os.geteuid() != 0:
        pytest.skip("cgroups are delegated to containers only when the harness is root")
    # the zygote, its namespaces inside a user namespace: the container has no CAP_SYS_ADMIN (locked_down above)
    assert info.isolation == "zygote" and "inside a user namespace" in info.isolation_note, info.isolation_note
    assert info.cgroups.get("memory") and info.cgroups.get("cpu") and info.cgroups.get("pids"), info.cgroups
    # The spinning is done by a background grandchild while the direct child sleeps: only the
    # run's cgroup sees that CPU time (rusage of the direct child would show none: TLE_WALL).
    job = RunJob(procs=[Proc(argv=["/bin/sh", "-c", "sh -c 'while :; do :; done' & sleep 15"],
                             limits=Limits(cpu_s=1, wall_s=20, processes=16))])
    res = box.execute(Batch(jobs=[job])).results[0].procs[0]
    assert res.status.value == "TLE_CPU", res


def test_killed_container_is_replaced_and_job_retried(box: RemoteBox) -> None:
    (first,) = _containers(box)
    job = RunJob(procs=[Proc(argv=["/bin/sleep", "2"], limits=Limits(cpu_s=5, wall_s=10))])
    killer = threading.Timer(0.7, lambda: _docker("kill", first, check=False))
    killer.start()
    res = box.execute(Batch(jobs=[job])).results[0]
    killer.join()
    assert res.error is None and res.procs[0].status.value == "OK", res
    assert box.pool.replacements == 1
    (second,) = _containers(box)
    assert second != first and _listed(second)
    deadline = time.monotonic() + 30
    while _listed(first) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _listed(first)


def test_close_removes_containers_and_cgroups() -> None:
    _ready()
    b = DockerBackend().open(2)
    names = _containers(b)
    assert names and all(_listed(n) for n in names)
    b.close()
    assert not any(_listed(n) for n in names)
    for n in names:
        assert not list(Path("/sys/fs/cgroup").glob(f"*/ioi-eval-docker/{n}"))


INTERRUPTED = """
import sys, time
from ioi_eval.backends.docker import DockerBackend
box = DockerBackend().open(2)
try:
    print(" ".join(s.channel.container for s in box.pool.slots), flush=True)
    time.sleep(120)
finally:
    box.close()
"""


def test_ctrl_c_removes_containers() -> None:
    _ready()
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    names = proc.stdout.readline().split()
    assert names and all(_listed(n) for n in names)
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    assert not any(_listed(n) for n in names)


def test_image_build_inputs() -> None:
    from ioi_eval.backends.image import DOCKERFILE, _suite, base_image, source_digest

    assert base_image() == "debian:bookworm-slim" and _suite(base_image()) == "bookworm"
    assert _suite("debian:trixie") == "trixie"
    text = DOCKERFILE.read_text()
    for needed in ("g++", "python3", "bubblewrap", "stdc++.h.gch", "ioi_box.server", "useradd"):
        assert needed in text, needed
    assert len(source_digest()) == 16 and source_digest() == source_digest()


def test_stale_image_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _ready()
    import ioi_eval.backends.image as si

    monkeypatch.setattr(si, "source_digest", lambda: "0" * 16)
    with pytest.raises(DockerError, match="rebuild it with `ioi-eval sandbox build`"):
        DockerBackend().open(1)
