"""Processes running under the sandbox uids of a harness (local backend), read from ``/proc``.

When the harness runs as root, every untrusted run gets a fresh uid from the harness's own range
(:data:`ioi_box.isolation.SANDBOX_UID_BASE` + ``(pid % 4096) * 256``, 256 uids), so anything
still running under one of those uids after a run has escaped the launcher's clean-up.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

UIDS_PER_HARNESS = 256


def sandbox_uid_range(harness_pid: int | None = None) -> range:
    """The uids that the harness process ``harness_pid`` (default: this one) gives to its runs."""
    from ioi_box.isolation import SANDBOX_UID_BASE

    lo = SANDBOX_UID_BASE + ((harness_pid or os.getpid()) % 4096) * UIDS_PER_HARNESS
    return range(lo, lo + UIDS_PER_HARNESS)


def _status(pid_dir: Path) -> dict[str, str] | None:
    try:
        text = (pid_dir / "status").read_text()
    except OSError:  # gone meanwhile, or not readable
        return None
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def sandbox_processes(harness_pid: int | None = None, zombies: bool = True) -> list[str]:
    """``"uid pid state name"`` of every process under the sandbox uids of a harness.

    ``zombies=False`` lists only processes that are more than an exit status: once a harness is
    gone, reaping what it left is the init process's job, so a zombie is a failure only while the
    harness lives.
    """
    uids = sandbox_uid_range(harness_pid)
    found = []
    for pid_dir in Path("/proc").iterdir():
        if not pid_dir.name.isdigit():
            continue
        st = _status(pid_dir)
        if st is None or "Uid" not in st:
            continue
        uid = int(st["Uid"].split()[0])
        state = st.get("State", "?").split()[0]
        if uid in uids and (zombies or state != "Z"):
            found.append(f"{uid} {pid_dir.name} {state} {st.get('Name', '?')}")
    return found


def wait_until_gone(probe: Callable[[], list[str]], timeout: float = 5.0) -> list[str]:
    """Poll ``probe`` until it lists nothing or ``timeout`` passes; returns what is left."""
    deadline = time.monotonic() + timeout
    left = probe()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = probe()
    return left
