"""What a judge container may do: its seccomp profile and the reasons for each security option.

The executor inside the container isolates every run as on the local backend (the zygote, else bubblewrap),
so that runs see only their own files, processes and (no) network, and the verdicts are the local
backend's. The executor is the container's root but holds only CAP_SETUID, CAP_SETGID and CAP_KILL (to give
each run a fresh uid that owns none of the box's files, and to end it). Without CAP_SYS_ADMIN the zygote makes
its namespaces inside a user namespace that maps only the run uids and an unprivileged root (the map needs
CAP_SETUID/CAP_SETGID, nothing more), and bubblewrap runs under the run's uid, unprivileged; both need three things
Docker's defaults forbid:

- creating user/mount/pid namespaces, entering them and mounting inside them: Docker's default seccomp profile
  refuses ``unshare``, ``setns``, ``clone`` with namespace flags, ``mount``, ``pivot_root``, ``open_tree``,
  ``move_mount``, ``mount_setattr``... to processes without CAP_SYS_ADMIN. :func:`seccomp_profile` allows
  everything except a deny-list of calls that neither the executor, the zygote nor bubblewrap needs and that
  widen the kernel's attack surface
  (module loading, kexec, bpf, perf events, userfaultfd, io_uring, the key ring, ptrace and
  cross-process memory access, file handles) — contestant programs get the stricter filter of
  :mod:`ioi_box.seccomp` on top;
- mounting a fresh ``/proc`` for each run's pid namespace: the kernel allows it only where the
  container's own ``/proc`` is not partly masked (the zygote keeps a bind of it, unreachable from the boxes,
  for that check), hence ``systempaths=unconfined`` (the masked
  paths are readable by the container's unprivileged user only where their file modes allow);
- on AppArmor hosts, ``apparmor=unconfined`` (docker-default denies ``mount``).

Everything else stays locked: no network (``--network none``), read-only root, tmpfs work dirs,
``--cap-drop ALL`` but SETUID/SETGID/KILL, ``no-new-privileges``, and pids/memory/CPU limits on the container.
"""

from __future__ import annotations

import json
import platform

# System calls refused (EPERM) to the whole container.
DENIED = (
    "acct", "add_key", "bpf", "delete_module", "finit_module", "init_module", "io_uring_enter",
    "io_uring_register", "io_uring_setup", "kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie",
    "name_to_handle_at", "open_by_handle_at", "perf_event_open", "pidfd_getfd", "process_vm_readv",
    "process_vm_writev", "ptrace", "quotactl", "reboot", "request_key", "swapoff", "swapon", "syslog",
    "uselib", "userfaultfd", "vm86", "vm86old",
)
_ARCH = {"x86_64": "SCMP_ARCH_X86_64", "aarch64": "SCMP_ARCH_AARCH64"}
EPERM = 1


def seccomp_profile(machine: str | None = None) -> str:
    """The container's seccomp profile (Docker's JSON format): native system calls only, minus DENIED."""
    arch = _ARCH.get(machine or platform.machine())
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        # Only the native ABI: a 32-bit or x32 system call has no rule and is refused.
        "architectures": [arch] if arch else [],
        "syscalls": [{"names": list(DENIED), "action": "SCMP_ACT_ERRNO", "errnoRet": EPERM}],
    }
    return json.dumps(profile, indent=1)
