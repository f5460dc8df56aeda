"""Who owns a work root and a cgroup: a lock file held with ``flock``, which the kernel releases on death.

Harnesses share ``/tmp`` and the cgroup file system with each other, but not always the view of process ids: a
harness in a container, under ``unshare --pid`` or in a CI runner sees other pids, or none, and may even have the
same pid as another one. So ownership is never told from a pid. Each harness process takes a random token and
holds ``<base>/<token>.lock`` locked (``flock``) for as long as it lives; its work roots are ``<base>/box-<token>-*``
and its cgroups ``ioi-eval-<token>``. Clean-up at start-up removes the leftovers of a token only when its lock file
exists and nobody holds it: a harness that died. Anything else (a live harness's, a lock file this harness cannot
see, an older layout) is left alone: leaking a folder beats destroying someone's judging.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_SUFFIX = ".lock"
CGROUP_PREFIX = "ioi-eval-"


class Owner:
    """This process's claim on ``base``: a token and its lock file, held until the process ends."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.pid = os.getpid()
        base.mkdir(mode=0o755, exist_ok=True)
        # The lock is taken under a name no clean-up looks at, then linked into place: a lock file is never
        # visible unheld while its owner lives.
        while True:
            self.token = secrets.token_hex(8)
            self.lock_path = base / f"{self.token}{LOCK_SUFFIX}"
            draft = base / f".{self.token}.new"
            fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                os.link(draft, self.lock_path)
            except FileExistsError:  # a token already taken (never in practice): draw another
                os.close(fd)
                continue
            finally:
                with contextlib.suppress(OSError):
                    draft.unlink()
            break
        self._fd = fd  # held until the process ends; the kernel releases it however the process ends

    @property
    def cgroup_name(self) -> str:
        """The name of this process's parent cgroup in each hierarchy."""
        return f"{CGROUP_PREFIX}{self.token}"

    def root_prefix(self) -> str:
        """The name prefix of this process's work roots under :attr:`base`."""
        return f"box-{self.token}-"


class UnreachableRoot(PermissionError):
    """No temporary folder the sandbox's users can reach: the message names the folder and the fix."""


def reachable_by_others(path: Path) -> bool:
    """Whether users other than the owner can reach ``path``: every folder from ``/`` down is searchable (o+x)."""
    try:
        path = path.resolve()
        return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))
    except OSError:
        return False


def default_base() -> Path:
    """Where this user's harnesses keep their work roots and lock files: ``<tmp>/ioi-eval-<uid>``.

    As root, every run gets a fresh unprivileged uid, which must reach the work root. A private ``TMPDIR``
    (mode 0700, as ``mktemp -d`` makes it) would fail every sandboxed step in disguise, so the base goes to
    ``/tmp`` instead; when that is not reachable either, :class:`UnreachableRoot` says so at once.
    """
    tmp = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and not reachable_by_others(tmp):
        shared = Path("/tmp")
        if not reachable_by_others(shared):
            raise UnreachableRoot(f"{tmp}: the sandbox's users cannot reach this temporary folder (nor /tmp): make "
                                  "every folder on its path searchable by others (chmod o+x) or set TMPDIR to one "
                                  "that is")
        tmp = shared
    return tmp / f"ioi-eval-{os.geteuid()}"


_owners: dict[Path, Owner] = {}
_owners_lock = threading.Lock()


def owner(base: Path) -> Owner:
    """This process's :class:`Owner` of ``base`` (one per process: a forked child makes its own)."""
    with _owners_lock:
        own = _owners.get(base)
        if own is None or own.pid != os.getpid():
            own = _owners[base] = Owner(base)
        return own


def is_held(lock_path: Path) -> bool | None:
    """Whether a live process holds ``lock_path``; None when the file is gone or cannot be opened."""
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        # A lock belongs to an open file description, so this fails even against our own process's lock.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return None
    finally:
        os.close(fd)
    return False


def remove_stale(base: Path, remove_cgroup: Callable[[str], None] = lambda name: None) -> list[str]:
    """Remove what harnesses that died left under ``base`` (work roots) and in the cgroup tree; their tokens.

    For each lock file nobody holds: its cgroups (``remove_cgroup(name)``), then its work roots, then the lock file
    itself, in that order, so that a clean-up cut short is finished by the next one.
    """
    removed = []
    for lock in sorted(base.glob(f"*{LOCK_SUFFIX}")):
        token = lock.name[: -len(LOCK_SUFFIX)]
        if not token or is_held(lock) is not False:
            continue
        remove_cgroup(f"{CGROUP_PREFIX}{token}")
        for root in base.glob(f"box-{token}-*"):
            shutil.rmtree(root, ignore_errors=True)
        with contextlib.suppress(OSError):
            lock.unlink()
        removed.append(token)
    return removed



@contextlib.contextmanager
def held_temp(folder: Path, suffix: str) -> Iterator[Path]:
    """A fresh file ``.<token>-<random><suffix>`` in ``folder`` to write aside (by this process or a tool it starts),
    held with ``flock`` for the block and removed after it unless renamed away.

    The lock lives with the file, so :func:`remove_dead_temps` tells a live writer's file from a dead one's in any
    pid namespace, and on any machine that shares the folder. It is taken before the file gets its name: a file of
    that name is never seen unheld while its writer lives.
    """
    me = owner(default_base())
    while True:
        name = f".{me.token}-{secrets.token_hex(4)}"
        draft, path = folder / f"{name}.new", folder / f"{name}{suffix}"
        try:
            fd = os.open(draft, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue
        break
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.rename(draft, path)
        yield path
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            draft.unlink()
        with contextlib.suppress(OSError):
            path.unlink()


def remove_dead_temps(folder: Path, pattern: str) -> list[Path]:
    """Remove the files under ``folder`` matching ``pattern`` (a glob of :func:`held_temp` names) that nobody holds:
    left half-written by a writer that died. The paths removed."""
    removed = []
    for path in folder.glob(pattern):
        if is_held(path) is False:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
