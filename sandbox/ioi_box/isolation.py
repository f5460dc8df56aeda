"""Isolation mechanisms: how one :class:`~ioi_box.protocol.Proc` becomes a launcher spec.

An isolation turns a process description that speaks in *inside* paths (``/box/prog``,
``/fifo0/u0_to_m``) into the dict that :func:`ioi_box._native.run` executes on this machine.

- :class:`NamespaceIsolation` (preferred where the harness is root with CAP_SYS_ADMIN, or root with
  CAP_SETUID and CAP_SETGID only, as in a judge container: its namespaces are then made inside a user
  namespace): the same namespaces and mounts built by the native launcher itself, from a template made
  once per process (the "zygote", cpp/nsbox.cpp), so a run costs a fraction of a bubblewrap start.
- :class:`BwrapIsolation` (otherwise): bubblewrap namespaces (user, pid, net, ipc, uts, mount,
  cgroup); only read-only system paths, a fresh size-capped tmpfs for ``/box`` and ``/tmp``, the
  files the job binds, no network, and a uid that owns nothing on the host.
- :class:`PlainIsolation` (fallback where namespaces are unavailable, e.g. inside an unprivileged
  container that is itself the isolation boundary): rlimits and cgroups only; inside paths are
  mapped onto a per-run folder of symlinks.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import logging
import os
import platform
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from . import seccomp
from .protocol import Proc

SYSTEM_DIRS = ("/usr",)
# Where merged-/usr systems keep compatibility symlinks (/bin -> usr/bin); on other systems these
# are real directories and are bound read-only instead.
COMPAT_DIRS = ("/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin")
BASE_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TMPDIR": "/tmp"}
# Untrusted runs get uids from this range: a fresh uid per run, so that RLIMIT_NPROC (which the
# kernel counts per uid across the whole machine) bounds one run only and runs cannot signal or
# ptrace each other even without a pid namespace.
SANDBOX_UID_BASE = int(os.environ.get("IOI_EVAL_SANDBOX_UID_BASE", "200000"))
_uid_counter = itertools.count()
log = logging.getLogger(__name__)


class Isolation(Protocol):
    """Turns a :class:`Proc` into a spec for the native launcher."""

    name: str
    needs_scratch: bool  # whether spec() uses its per-run scratch folder

    def spec(self, proc: Proc, host_path: HostPaths, scratch: Path) -> dict:
        """Build the launcher spec; ``scratch`` is a private per-run folder on the host."""
        ...

    def normalise(self, raw: dict) -> dict:
        """Undo what the isolation layer does to the launcher's raw result (e.g. exit codes)."""
        ...


class HostPaths(Protocol):
    """Resolves a box path (relative to the executor root) to a host path."""

    def __call__(self, box_path: str) -> str | Path: ...


def _limits(proc: Proc) -> dict:
    lim = proc.limits
    return {
        "cpu_limit_s": lim.cpu_s,
        "wall_limit_s": lim.wall_s,
        "memory_limit_bytes": lim.memory_bytes,
        "fsize_bytes": lim.output_bytes,
        "nofile": lim.open_files,
        "nproc": lim.processes,
    }


def _stdio(proc: Proc, host_path: HostPaths) -> dict:
    return {
        "stdin": str(host_path(proc.stdin)) if proc.stdin else None,
        "stdout": str(host_path(proc.stdout)) if proc.stdout else None,
        "stderr": str(host_path(proc.stderr)) if proc.stderr else None,
    }


def _env(proc: Proc) -> list[str]:
    env = {**BASE_ENV, **proc.env}
    return [f"{k}={v}" for k, v in env.items()]


@functools.cache
def _effective_caps() -> int:
    """This process's effective capability set (a bit mask; 0 when unreadable); read once."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _has_sys_admin() -> bool:
    """Whether this process holds CAP_SYS_ADMIN (root in a container usually does not)."""
    return bool(_effective_caps() >> 21 & 1)


def _can_map_ids() -> bool:
    """Whether this process holds CAP_SETUID and CAP_SETGID: enough to map the run uids into a user namespace."""
    return _effective_caps() >> 6 & 3 == 3


def userns_id_map() -> tuple[int, int, int]:
    """The zygote's user namespace without CAP_SYS_ADMIN: (its root's host uid, first run uid, count).

    Its root is the uid just below the run uids, which owns nothing; the run uids of :func:`_drop_ids` map to
    themselves, so a run's files and limits are the same as with the privileged zygote."""
    return SANDBOX_UID_BASE - 1, SANDBOX_UID_BASE, 4096 * 256


def _drop_ids() -> tuple[int, int]:
    """A uid/gid that owns nothing on the host, fresh for each run, when we may switch ids."""
    if os.geteuid() != 0:
        return -1, -1
    uid = SANDBOX_UID_BASE + (os.getpid() % 4096) * 256 + next(_uid_counter) % 256
    return uid, uid


@dataclass
class BwrapIsolation:
    """Linux namespaces through bubblewrap (run unprivileged, after the launcher drops the uid)."""

    bwrap: str
    name: str = "bwrap"
    needs_scratch: bool = False
    _compat: list[tuple[str, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._seccomp = _seccomp_file()
        for d in COMPAT_DIRS:
            if os.path.islink(d):
                self._compat.append(("--symlink", os.readlink(d), d))
            elif os.path.isdir(d):
                self._compat.append(("--ro-bind", d, d))

    def spec(self, proc: Proc, host_path: HostPaths, scratch: Path) -> dict:
        lim = proc.limits
        # The launcher gives the run a fresh network namespace whose loopback stays down (bwrap
        # would configure 127.0.0.1 in its own), and bwrap keeps it: as root with CAP_SYS_ADMIN a
        # plain one; otherwise (not root, or root in a container) inside a user namespace of the
        # run's own uid.
        own_netns = os.geteuid() == 0 and _has_sys_admin()
        argv = [self.bwrap, "--unshare-all", "--share-net", "--unshare-user",
                "--disable-userns", "--die-with-parent", "--new-session", "--hostname", "box"]
        for d in SYSTEM_DIRS:
            argv += ["--ro-bind", d, d]
        for item in self._compat:
            argv += list(item)
        argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(lim.tmp_bytes), "--tmpfs", "/tmp",
                 "--size", str(1 << 20), "--tmpfs", "/dev/shm"]
        if "/box" not in proc.rw_binds:
            argv += ["--size", str(lim.tmp_bytes), "--perms", "0755", "--tmpfs", "/box"]
        # Folders first so that file binds inside them land on top.
        for inside, box in sorted(proc.rw_binds.items(), key=lambda kv: len(kv[0])):
            argv += ["--bind", str(host_path(box)), inside]
        for inside, box in sorted(proc.binds.items(), key=lambda kv: len(kv[0])):
            argv += ["--ro-bind", str(host_path(box)), inside]
        argv += ["--remount-ro", "/"]  # the box's root tmpfs: nothing but /box and /tmp is writable
        extra_fds = []
        if self._seccomp:  # the launcher opens it at fd 3 for bwrap
            argv += ["--seccomp", "3"]
            extra_fds.append(self._seccomp)
        # The launcher's hold pipe, at the fd after the extra ones: bwrap blocks on it once the
        # sandbox is set up, so the launcher can leave the setup's CPU out of the program's.
        argv += ["--block-fd", str(3 + len(extra_fds))]
        argv += ["--chdir", proc.cwd, "--", *proc.argv]
        uid, gid = _drop_ids()
        return {"argv": argv, "env": _env(proc), "cwd": "/", "uid": uid, "gid": gid, "reaper": True,
                "new_netns": own_netns, **({} if own_netns else {"userns_netns": True}),
                "extra_fds": extra_fds, "hold_setup": True,
                **_stdio(proc, host_path), **_limits(proc)}

    def normalise(self, raw: dict) -> dict:
        """bwrap's pid-1 reaper reports a program killed by signal N as exit code 128+N.

        An exit code above 128 is therefore read as a signal; a program that itself calls
        ``exit(139)`` is reported as killed by signal 11, which is the same verdict (RE).
        """
        code = raw.get("exit_code")
        if raw.get("signal") is None and code is not None and 128 < code < 128 + 65:
            return {**raw, "exit_code": None, "signal": code - 128}
        return raw


def _system_entries() -> list[tuple[str, str]]:
    """The box's system paths: (path, "") bound read-only, or (path, target) symlinks."""
    out = [(d, "") for d in SYSTEM_DIRS]
    for d in COMPAT_DIRS:
        if os.path.islink(d):
            out.append((d, os.readlink(d)))
        elif os.path.isdir(d):
            out.append((d, ""))
    return out


@dataclass
class NamespaceIsolation:
    """The zygote sandbox: the launcher's own namespaces (root with CAP_SYS_ADMIN; with ``userns``, root with
    CAP_SETUID and CAP_SETGID only, every namespace made inside a user namespace of :func:`userns_id_map`).

    The same box as :class:`BwrapIsolation` (fresh pid, IPC and mount namespaces, no network, a
    read-only root with /usr, size-capped tmpfs /box and /tmp, the binds, a uid that owns nothing,
    seccomp), but the template mount namespace is built once per process and network namespaces
    are made ahead of the runs (each serves one), so no bubblewrap is executed per run. Its pid 1
    reports the program's status and the rusage of the whole tree, so CPU time is counted even
    where there are no cgroups.
    """

    name: str = "zygote"
    needs_scratch: bool = False
    userns: bool = False

    def __post_init__(self) -> None:
        from . import _native

        # The filter is part of the box (no ptrace of the init, no new user namespaces): without one
        # for this machine the zygote is refused, never run bare.
        if not seccomp.supported():
            raise RuntimeError(f"no seccomp filter for this architecture ({platform.machine()})")
        why = _native.ns_setup(_system_entries(), userns_id_map() if self.userns else None)
        if why:
            raise RuntimeError(why)
        self._filter = seccomp.build_filter(block_userns=True)

    def spec(self, proc: Proc, host_path: HostPaths, scratch: Path) -> dict:
        # Folders first so that file binds inside them land on top (as for bubblewrap).
        binds = [(str(host_path(box)), inside, True)
                 for inside, box in sorted(proc.rw_binds.items(), key=lambda kv: len(kv[0]))]
        binds += [(str(host_path(box)), inside, False)
                  for inside, box in sorted(proc.binds.items(), key=lambda kv: len(kv[0]))]
        uid, gid = _drop_ids()
        box = {"binds": binds, "box_tmpfs": "/box" not in proc.rw_binds, "tmp_bytes": proc.limits.tmp_bytes,
               "seccomp": self._filter}
        return {"argv": list(proc.argv), "env": _env(proc), "cwd": proc.cwd, "uid": uid, "gid": gid, "reaper": True,
                "box": box, **_stdio(proc, host_path), **_limits(proc)}

    def normalise(self, raw: dict) -> dict:
        """The box's init reports the program's own wait status: nothing to undo."""
        return raw


def namespaced(isolation: object) -> bool:
    """Whether an isolation gives the program namespaces (a box of its own), not only rlimits."""
    return isinstance(isolation, (NamespaceIsolation, BwrapIsolation))


@dataclass
class PlainIsolation:
    """No namespaces: rlimits and cgroups only. Inside paths become symlinks in a scratch folder."""

    name: str = "rlimits"
    needs_scratch: bool = True

    def spec(self, proc: Proc, host_path: HostPaths, scratch: Path) -> dict:
        mapping: dict[str, str] = {}
        for inside, box in {**proc.binds, **proc.rw_binds}.items():
            target = scratch / inside.lstrip("/")
            if inside == "/box":
                target = scratch / "box"
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
            target.symlink_to(host_path(box))
            mapping[inside] = str(target)
        box_dir = scratch / "box"
        box_dir.mkdir(exist_ok=True)
        mapping.setdefault("/box", str(box_dir))

        def translate(arg: str) -> str:
            for inside in sorted(mapping, key=len, reverse=True):
                if arg == inside or arg.startswith(inside + "/"):
                    return mapping[inside] + arg[len(inside):]
            return arg

        uid, gid = _drop_ids()
        if uid >= 0:
            for p in scratch.rglob("*"):
                os.lchown(p, uid, gid)
            os.chown(scratch, uid, gid)
        return {"argv": [translate(a) for a in proc.argv], "env": _env(proc),
                "cwd": translate(proc.cwd), "uid": uid, "gid": gid,
                **_stdio(proc, host_path), **_limits(proc)}

    def normalise(self, raw: dict) -> dict:
        """The launcher sees the program itself: nothing to undo."""
        return raw


_SECCOMP_PATH: str | None = None


def _seccomp_file() -> str | None:
    """The seccomp program, written once per process (None where the architecture is unknown)."""
    global _SECCOMP_PATH
    if _SECCOMP_PATH is None and seccomp.supported():
        fd, path = tempfile.mkstemp(prefix="ioi-eval-seccomp-", suffix=".bpf")
        with os.fdopen(fd, "wb") as f:
            f.write(seccomp.build_filter())
        atexit.register(lambda: Path(path).unlink(missing_ok=True))
        _SECCOMP_PATH = path
    return _SECCOMP_PATH


def bwrap_works(bwrap: str) -> tuple[bool, str]:
    """Try a real sandbox start; user namespaces may be disabled even where bwrap exists."""
    from . import _native  # the launcher reaps what bwrap leaves behind, unlike subprocess

    iso = BwrapIsolation(bwrap)
    probe = iso.spec(Proc(argv=["/usr/bin/true"]), lambda box: Path(box), Path("/"))
    err = Path(tempfile.mkstemp(prefix="ioi-bwrap-probe-")[1])
    try:
        os.chmod(err, 0o666)
        raw = _native.run([{**probe, "stderr": str(err), "wall_limit_s": 20}])[0]
        text = err.read_text(errors="replace").strip()
    finally:
        err.unlink(missing_ok=True)
    if raw.get("setup_error"):
        return False, raw["setup_error"]
    if raw.get("exit_code") != 0:
        return False, text or f"exit {raw.get('exit_code')}, signal {raw.get('signal')}"
    return True, "ok"


def zygote_works() -> tuple[NamespaceIsolation | None, str]:
    """The zygote sandbox, when this process may build it and a real run in it works (its seccomp
    filter installed included: a kernel that refuses it fails the probe).

    Root with CAP_SYS_ADMIN builds it directly; root with only CAP_SETUID and CAP_SETGID (a judge container) builds
    it inside a user namespace (``NamespaceIsolation(userns=True)``)."""
    if os.geteuid() != 0:
        return None, "not root"
    userns = not _has_sys_admin()
    if userns and not _can_map_ids():
        return None, "root without CAP_SYS_ADMIN, nor CAP_SETUID and CAP_SETGID for a user namespace"
    from . import _native

    try:
        iso = NamespaceIsolation(userns=userns)
    except RuntimeError as exc:
        return None, str(exc)
    probe = iso.spec(Proc(argv=["/usr/bin/true"]), lambda box: Path(box), Path("/"))
    raw = _native.run([{**probe, "wall_limit_s": 20}])[0]
    if raw.get("setup_error") or raw.get("exit_code") != 0:
        return None, raw.get("setup_error") or f"exit {raw.get('exit_code')}, signal {raw.get('signal')}"
    return iso, "ok"


ISOLATIONS = ("zygote", "bwrap", "rlimits")
#: A requirement rather than one isolation: the zygote where it works, else bubblewrap, never rlimits alone (the
#: Docker backend asks for it: a container's kernel may lack what the zygote needs, never its namespaces).
NAMESPACED = "namespaced"
REQUIREMENTS = (*ISOLATIONS, NAMESPACED)


def detect(prefer: str | None = None) -> tuple[Isolation, str]:
    """Choose the strongest isolation this machine gives; returns it and a note on why.

    ``prefer`` (or ``$IOI_EVAL_ISOLATION``) requires one of :data:`ISOLATIONS`, or :data:`NAMESPACED` (the zygote
    or bubblewrap); by default the zygote where it works, else bubblewrap, else rlimits, the note saying why each
    was passed over.
    """
    prefer = prefer or os.environ.get("IOI_EVAL_ISOLATION")
    if prefer and prefer not in REQUIREMENTS:
        raise RuntimeError(f"unknown isolation {prefer!r} (one of {', '.join(REQUIREMENTS)})")
    if prefer == "rlimits":
        return PlainIsolation(), "rlimits requested"
    passed = ""
    if prefer in (None, "zygote", NAMESPACED):
        iso, why = zygote_works()
        if iso is not None:
            where = ", inside a user namespace (no CAP_SYS_ADMIN)" if iso.userns else ""
            return iso, f"zygote namespaces{where} (mount template built once per process, a fresh box per run)"
        if prefer == "zygote":
            raise RuntimeError(f"the zygote sandbox cannot be used here: {why}")
        passed = f"; zygote not used: {why}"
        # Where the zygote was expected (root with CAP_SYS_ADMIN, or with CAP_SETUID/CAP_SETGID for its user
        # namespace mode), its refusal is news worth a warning.
        expected = os.geteuid() == 0 and (_has_sys_admin() or _can_map_ids())
        log.log(logging.WARNING if expected else logging.DEBUG, "zygote sandbox not used: %s", why)
    bwrap = shutil.which("bwrap")
    if bwrap:
        ok, why = bwrap_works(bwrap)
        if ok:
            return BwrapIsolation(bwrap), "bubblewrap namespaces" + passed
        note = f"bubblewrap cannot start a sandbox here: {why}"
    else:
        note = "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    if prefer in ("bwrap", NAMESPACED):
        raise RuntimeError(note + passed)
    return PlainIsolation(), note
