"""The Docker backend: a small pool of long-lived judge containers, spoken to over their attach sockets.

Each container runs ``python3 -m ioi_box.server`` from the judge image (``sandbox/Dockerfile``,
built by ``ioi-eval sandbox build``) as its only process, created through the docker SDK and attached to the
harness through the engine's attach socket (:mod:`.docker_stream`; no ``docker`` binary, no client process):
files and job batches travel as frames on its stdin/stdout
(:mod:`ioi_eval.backends.remote`), so a test costs one round trip, not one ``docker run`` or
``docker exec``. Containers have no network, a read-only root, a disk-backed work volume and a
tmpfs ``/tmp``, no capabilities but SETUID/SETGID/KILL (a fresh uid per run), ``no-new-privileges``, a
seccomp profile (:mod:`.docker_security`), and pids/memory/CPU limits; inside, every run gets the local backend's
box: the zygote's (its namespaces made inside a user namespace, since the container has no CAP_SYS_ADMIN), or
bubblewrap's where the container's kernel lacks what the zygote needs (``--isolation namespaced``).

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
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioi_box.isolation import NAMESPACED

from ..errors import JudgeError
from .docker_engine import DEFAULT_IMAGE, client, containers_labelled, engine_info, error_line, remove_container_names
from .docker_security import seccomp_profile
from .docker_stream import Demux, Writer, raw_socket
from .image import check_image
from .remote import ChannelPool, RemoteBox, StreamChannel

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

    def make_dirs(self, container: str) -> list[tuple[str, str]]:
        """The container's parent group folders, made now: (host dir, mount point) per hierarchy, each mounted
        writable over Docker's read-only view."""
        dirs = self._dirs(container)
        for host_dir, _ in dirs:
            os.makedirs(host_dir, exist_ok=True)
        return dirs

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
    seccomp: str  # the seccomp profile (JSON)
    isolation: str  # what the server must give each run (ioi_box.isolation.REQUIREMENTS)
    apparmor: bool  # the engine uses AppArmor (docker-default forbids mount)
    delegation: CgroupDelegation | None

    def command(self) -> list[str]:
        """The server's arguments (the image's entrypoint runs ``python3 -m ioi_box.server``)."""
        return ["--root", "/work/box", "--workers", str(self.slots), "--isolation", self.isolation]

    def host_config(self, api: Any, name: str) -> dict:
        """The engine's HostConfig of one container (what ``docker run`` would send for: ``--network none
        --read-only --cap-drop ALL --cap-add SETUID,SETGID,KILL --security-opt no-new-privileges,seccomp=...,
        systempaths=unconfined --mount type=volume,dst=/work --tmpfs /tmp --memory --memory-swap --pids-limit --cpus
        --ulimit core=0 --log-driver none --rm``)."""
        from docker.types import LogConfig, Mount, Ulimit

        security = ["no-new-privileges", f"seccomp={self.seccomp}"]
        if self.apparmor:
            security.append("apparmor=unconfined")
        extra: dict[str, Any] = {}
        binds: list[str] = []
        if self.delegation is not None:
            extra = {"cgroup_parent": f"/{CGROUP_PARENT}/{name}", "cgroupns": "host"}
            binds = [f"{host_dir}:{point}:rw" for host_dir, point in self.delegation.make_dirs(name)]
        config = api.create_host_config(
            network_mode="none", read_only=True, cap_drop=["ALL"], cap_add=["SETUID", "SETGID", "KILL"],
            security_opt=security, mounts=[Mount(target="/work", source=None, type="volume")],
            tmpfs={"/tmp": "rw,nosuid,nodev,size=64m,mode=1777"}, mem_limit=self.memory_bytes,
            memswap_limit=self.memory_bytes, pids_limit=self.pids, nano_cpus=int(self.cpus * 1e9),
            ulimits=[Ulimit(name="core", soft=0, hard=0)], log_config=LogConfig(type="none"), auto_remove=True,
            binds=binds or None, **extra)
        # systempaths=unconfined is the CLI's name for no masked and no read-only /proc paths (bubblewrap mounts a
        # fresh /proc, which the kernel refuses while the container's is partly masked)
        config["MaskedPaths"] = []
        config["ReadonlyPaths"] = []
        return config


class DockerChannel(StreamChannel):
    """One judge container, created through the docker SDK and spoken to over its attach socket."""

    STDERR_KEPT = 8192

    def __init__(self, spec: ContainerSpec, name: str) -> None:
        import docker

        self.container = name
        self.spec = spec
        self._stderr = bytearray()
        with _live_lock:
            _live.add(name)
        api = client(120).api
        self._api = api
        try:  # not detached, stdin open: the SDK sets StdinOnce, so stdin closes when our socket does
            api.create_container(spec.image, command=spec.command(), name=name, user="0:0", stdin_open=True,
                                 tty=False, labels={LABEL: _owner_label()},
                                 host_config=spec.host_config(api, name))
            self._attached = api.attach_socket(name, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            sock = raw_socket(self._attached)
            api.start(name)
        except (docker.errors.DockerException, OSError) as exc:
            self._remove()
            raise JudgeError(f"cannot start the judge container {name}: {error_line(exc)}") from None
        super().__init__(Demux(sock, self._keep_stderr), Writer(sock), name)

    def _keep_stderr(self, data: bytes) -> None:
        self._stderr += data
        del self._stderr[:-self.STDERR_KEPT]

    def stderr_text(self) -> str:
        """The tail of what the server wrote on stderr."""
        return bytes(self._stderr).decode(errors="replace").strip()

    def why_broken(self) -> str:
        why = super().why_broken()
        with contextlib.suppress(Exception):
            state = self._api.inspect_container(self.container)["State"]
            if not state.get("Running"):
                why += f" (exit status {state.get('ExitCode')}{', out of memory' if state.get('OOMKilled') else ''})"
        tail = self.stderr_text()
        return f"{why}: {tail[-2000:]}" if tail else why

    def close(self) -> None:
        """End the container: gracefully when the channel works (its input ends, the server exits), at once when
        it broke (hung, garbage); then remove it and its cgroup folders."""
        healthy = self.alive
        super().close()
        if healthy:
            with contextlib.suppress(Exception):
                self._api.wait(self.container, timeout=5)
        with contextlib.suppress(Exception):
            self._attached.close()
        self._remove()
        self._reader.join(timeout=5)

    def _remove(self) -> None:
        remove_containers([self.container])
        if self.spec.delegation is not None:
            self.spec.delegation.cleanup(self.container)


class DockerBackend:
    """Judge in a pool of judge containers (``--backend docker``)."""

    name = "docker"

    def __init__(self, image: str | None = None, slots_per_container: int = SLOTS_PER_CONTAINER,
                 memory_bytes: int | None = None, pids: int | None = None, isolation: str = NAMESPACED) -> None:
        """``isolation``: what each run must get inside the containers (default: the zygote, else bubblewrap;
        ``bwrap`` forces bubblewrap, as before the zygote worked in containers: for benchmarks)."""
        self.image = image or DEFAULT_IMAGE
        self.isolation = isolation
        self.slots_per_container = max(1, slots_per_container)
        self.memory_bytes = memory_bytes
        self.pids = pids
        self.note = ""

    def spec(self, slots: int, info: dict, seccomp: str) -> ContainerSpec:
        """Container settings for ``slots`` parallel runs each."""
        delegation, why = CgroupDelegation.detect(info)
        self.note = why
        # Room for `slots` runs at the judge's largest limits (a compile: 2 GiB) plus the blobs.
        memory = self.memory_bytes or (2 << 30) * slots + (2 << 30)
        security = " ".join(info.get("SecurityOptions") or [])
        return ContainerSpec(image=self.image, slots=slots, memory_bytes=memory, pids=self.pids or 64 + 80 * slots,
                             cpus=float(slots), seccomp=seccomp, isolation=self.isolation,
                             apparmor="apparmor" in security, delegation=delegation)

    def open(self, workers: int | None = None) -> RemoteBox:
        """Start ``ceil(workers / slots_per_container)`` containers (in parallel) and greet them."""
        info = engine_info()
        check_image(self.image)
        stale = remove_stale_containers()
        workers = max(1, workers or os.cpu_count() or 1)
        count = math.ceil(workers / self.slots_per_container)
        slots = math.ceil(workers / count)
        spec = self.spec(slots, info, seccomp_profile())
        for name in stale if spec.delegation is not None else ():
            spec.delegation.cleanup(name)
        run_id = f"{os.getpid()}-{secrets.token_hex(3)}"
        pool = ChannelPool(lambda i: DockerChannel(spec, f"ioi-box-{run_id}-{i}-{secrets.token_hex(2)}"),
                           count, workers_per_box=slots, isolation=self.isolation)
        box = RemoteBox(pool)
        box.isolation_note = f"docker, {count} container(s) x {slots} slots: {box.isolation_note}; {self.note}"
        return box
