"""The Docker backend: a small pool of long-lived judge containers, spoken to over ``docker run -i``.

Each container runs ``python3 -m ioi_box.server`` from the judge image (``sandbox/Dockerfile``,
built by ``ioi-eval sandbox build``) as its only process, attached to the harness through the
``docker run -i`` client's stdin/stdout: files and job batches travel as frames on that stream
(:mod:`ioi_eval.backends.remote`), so a test costs one round trip, not one ``docker run`` or
``docker exec``. Containers have no network, a read-only root, a disk-backed work volume and a
tmpfs ``/tmp``, no capabilities but SETUID/SETGID/KILL (a fresh uid per run), ``no-new-privileges``, a
seccomp profile (:mod:`.docker_security`), and pids/memory/CPU limits; inside, every run is
isolated by bubblewrap exactly as on the local backend.

Per-run CPU time and memory of the whole process tree need per-run cgroups, and Docker mounts
cgroupfs read-only. Where the harness is root next to a local engine with the cgroupfs driver,
each container gets a cgroup parent of its own (``/ioi-eval-docker/<container>``), and that folder
of each hierarchy is mounted writable over Docker's read-only view: the executor (the container's
root, holding only CAP_SETUID/CAP_SETGID/CAP_KILL) then makes a child group per run under the container's
own group, as it does locally, within the container's limits. Elsewhere the executor falls back
to rlimits and says so in the box's isolation note.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import secrets
import socket
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .docker_engine import DEFAULT_IMAGE, containers_labelled, docker_cli, engine_info, remove_container_names
from .docker_security import seccomp_profile
from .image import check_image
from .remote import ChannelPool, ProcessChannel, RemoteBox

LABEL = "ioi-eval.owner"
CGROUP_PARENT = "ioi-eval-docker"
SLOTS_PER_CONTAINER = 4


# -- cgroup delegation (host side) ----------------------------------------------------------------

def _local_engine() -> bool:
    host = os.environ.get("DOCKER_HOST", "")
    return host in ("", "unix:///var/run/docker.sock", "unix:///run/docker.sock")


def _cgroup_hierarchies() -> list[tuple[str, list[str], str]]:
    """(file system type, super options, host mount point) of every cgroup hierarchy mounted at its root."""
    found = []
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/mountinfo").read_text().splitlines():
            pre, _, post = line.partition(" - ")
            f, g = pre.split(), post.split()
            if len(f) >= 5 and len(g) >= 3 and f[3] == "/" and g[0] in ("cgroup", "cgroup2"):
                found.append((g[0], g[2].split(","), f[4]))
    return found


def _all_cgroup_points() -> list[str]:
    """Host mount points of every cgroup hierarchy (the engine makes a container's parent group in each)."""
    return [point for _, _, point in _cgroup_hierarchies()]


def _cgroup_mounts() -> dict[str, str]:
    """Host mount points of the hierarchies the executor uses: v1 controller -> dir, or {"v2": dir}."""
    v1: dict[str, str] = {}
    v2 = None
    for fstype, options, point in _cgroup_hierarchies():
        if fstype == "cgroup":
            for c in ("memory", "cpuacct", "pids"):
                if c in options:
                    v1.setdefault(c, point)
        elif v2 is None:
            v2 = point
    if v1:
        return v1
    return {"v2": v2} if v2 else {}


@dataclass
class CgroupDelegation:
    """Gives each container a writable cgroup subtree of its own (see the module's docstring)."""

    mounts: dict[str, str]

    @classmethod
    def detect(cls, info: dict) -> tuple[CgroupDelegation | None, str]:
        """The delegation this machine allows, or None and why not."""
        if os.geteuid() != 0:
            return None, "the harness is not root, so it cannot hand cgroups to the containers"
        if not _local_engine():
            return None, "the Docker engine is remote (DOCKER_HOST), so its cgroups are out of reach"
        if info.get("CgroupDriver") != "cgroupfs":
            return None, f"the engine's cgroup driver is {info.get('CgroupDriver')!r}, not cgroupfs"
        mounts = _cgroup_mounts()
        if not mounts:
            return None, "no cgroup hierarchy is mounted"
        return cls(mounts), "per-run cgroups delegated to each container"

    def _dirs(self, container: str) -> list[tuple[str, str]]:
        """(host dir of the container's parent group, mount point) per hierarchy."""
        return [(f"{point}/{CGROUP_PARENT}/{container}", point) for point in dict.fromkeys(self.mounts.values())]

    def docker_args(self, container: str) -> list[str]:
        """``docker run`` options: the cgroup parent, and its folders mounted writable over Docker's read-only ones."""
        args = ["--cgroup-parent", f"/{CGROUP_PARENT}/{container}", "--cgroupns", "host"]
        for host_dir, point in self._dirs(container):
            os.makedirs(host_dir, exist_ok=True)
            args += ["-v", f"{host_dir}:{point}:rw"]
        return args

    def cleanup(self, container: str) -> None:
        """Remove the container's parent groups in every hierarchy (once the container is gone)."""
        for point in _all_cgroup_points():
            host_dir = f"{point}/{CGROUP_PARENT}/{container}"
            for _ in range(50):
                try:
                    for g in sorted(Path(host_dir).glob("**/"), key=lambda p: -len(p.parts)):
                        if g != Path(host_dir):
                            g.rmdir()
                    os.rmdir(host_dir)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)  # still has processes for a moment after the container died


# -- containers -----------------------------------------------------------------------------------

_live: set[str] = set()  # containers of this process not removed yet
_live_lock = threading.Lock()


def _owner_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def remove_containers(names: list[str]) -> None:
    """Remove the containers, forced (quietly; a container already gone is fine, one the engine refuses is left to
    the next start's clean-up of stale containers)."""
    if names:
        remove_container_names(names)
    with _live_lock:
        _live.difference_update(names)


@atexit.register
def _remove_leftovers() -> None:
    with _live_lock:
        left = sorted(_live)
    with contextlib.suppress(Exception):
        remove_containers(left)


def remove_stale_containers() -> list[str]:
    """Remove judge containers of harnesses of this machine that died without cleaning up."""
    stale = []
    host = socket.gethostname()
    for name, owner in containers_labelled(LABEL):
        owner_host, _, pid = owner.rpartition(":")
        if owner_host != host or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            stale.append(name)
        except PermissionError:
            pass
    remove_containers(stale)
    return stale


@dataclass
class ContainerSpec:
    """How the judge containers are started."""

    image: str
    slots: int
    memory_bytes: int
    pids: int
    cpus: float
    seccomp_file: str
    apparmor: bool  # the engine uses AppArmor (docker-default forbids mount)
    delegation: CgroupDelegation | None

    def argv(self, name: str) -> list[str]:
        """The ``docker run`` command line of one container."""
        args = [docker_cli(), "run", "-i", "--rm", "--name", name, "--label", f"{LABEL}={_owner_label()}",
                "--network", "none", "--read-only", "--cap-drop", "ALL", "--cap-add", "SETUID", "--cap-add", "SETGID",
                "--cap-add", "KILL",
                "--security-opt", "no-new-privileges", "--security-opt", f"seccomp={self.seccomp_file}",
                "--security-opt", "systempaths=unconfined",
                "--user", "0:0", "--mount", "type=volume,dst=/work",
                "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m,mode=1777",
                "--memory", str(self.memory_bytes), "--memory-swap", str(self.memory_bytes),
                "--pids-limit", str(self.pids), "--cpus", f"{self.cpus:g}",
                "--ulimit", "core=0", "--log-driver", "none"]
        if self.apparmor:
            args += ["--security-opt", "apparmor=unconfined"]
        if self.delegation is not None:
            args += self.delegation.docker_args(name)
        return [*args, self.image, "--root", "/work/box", "--workers", str(self.slots), "--isolation", "bwrap"]


class DockerChannel(ProcessChannel):
    """One judge container, reached through its ``docker run -i`` client."""

    def __init__(self, spec: ContainerSpec, name: str) -> None:
        self.container = name
        self.spec = spec
        with _live_lock:
            _live.add(name)
        super().__init__(spec.argv(name), name=name, on_close=self._remove)

    def _remove(self) -> None:
        remove_containers([self.container])
        if self.spec.delegation is not None:
            self.spec.delegation.cleanup(self.container)


class DockerBackend:
    """Judge in a pool of judge containers (``--backend docker``)."""

    name = "docker"

    def __init__(self, image: str | None = None, slots_per_container: int = SLOTS_PER_CONTAINER,
                 memory_bytes: int | None = None, pids: int | None = None) -> None:
        self.image = image or DEFAULT_IMAGE
        self.slots_per_container = max(1, slots_per_container)
        self.memory_bytes = memory_bytes
        self.pids = pids
        self.note = ""

    def spec(self, slots: int, info: dict, seccomp_file: str) -> ContainerSpec:
        """Container settings for ``slots`` parallel runs each."""
        delegation, why = CgroupDelegation.detect(info)
        self.note = why
        # Room for `slots` runs at the judge's largest limits (a compile: 2 GiB) plus the blobs.
        memory = self.memory_bytes or (2 << 30) * slots + (2 << 30)
        security = " ".join(info.get("SecurityOptions") or [])
        return ContainerSpec(image=self.image, slots=slots, memory_bytes=memory, pids=self.pids or 64 + 80 * slots,
                             cpus=float(slots), seccomp_file=seccomp_file,
                             apparmor="apparmor" in security, delegation=delegation)

    def open(self, workers: int | None = None) -> RemoteBox:
        """Start ``ceil(workers / slots_per_container)`` containers (in parallel) and greet them."""
        info = engine_info()
        check_image(self.image)
        stale = remove_stale_containers()
        workers = max(1, workers or os.cpu_count() or 1)
        count = math.ceil(workers / self.slots_per_container)
        slots = math.ceil(workers / count)
        fd, seccomp_file = tempfile.mkstemp(prefix="ioi-eval-seccomp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            f.write(seccomp_profile())
        # The docker client reads the profile whenever it starts a container (replacements too),
        # so it lives as long as the pool.
        unlink = lambda: Path(seccomp_file).unlink(missing_ok=True)  # noqa: E731
        try:
            spec = self.spec(slots, info, seccomp_file)
            for name in stale if spec.delegation is not None else ():
                spec.delegation.cleanup(name)
            run_id = f"{os.getpid()}-{secrets.token_hex(3)}"
            pool = ChannelPool(lambda i: DockerChannel(spec, f"ioi-box-{run_id}-{i}-{secrets.token_hex(2)}"),
                               count, workers_per_box=slots, isolation="bwrap")
        except BaseException:
            unlink()
            raise
        box = RemoteBox(pool, on_close=unlink)
        box.isolation_note = f"docker, {count} container(s) x {slots} slots: {box.isolation_note}; {self.note}"
        return box
