"""A small seccomp filter for sandboxed programs (loaded by bubblewrap's ``--seccomp FD``).

Namespaces do not cover everything: a program could ptrace its own sandbox's pid 1 (bubblewrap's
init runs under the same uid) and, for instance, clear its parent-death signal. Like isolate, we
refuse the few calls that are not namespaced or not needed by a contestant: ptrace and the
cross-process memory calls, pidfd_getfd, kcmp, the key ring, io_uring, bpf, perf events and
userfaultfd (EPERM); and any non-native system-call ABI (the process is killed).
"""

from __future__ import annotations

import errno
import platform
import struct

# BPF opcodes (linux/bpf_common.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_OFF_NR, _OFF_ARCH = 0, 4

ARCHES = {
    "x86_64": (0xC000003E, {"ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kcmp": 312,
                            "pidfd_getfd": 438, "keyctl": 250, "add_key": 248, "request_key": 249,
                            "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                            "perf_event_open": 298, "bpf": 321, "userfaultfd": 323}),
    "aarch64": (0xC00000B7, {"ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kcmp": 272,
                             "pidfd_getfd": 438, "keyctl": 219, "add_key": 217, "request_key": 218,
                             "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
                             "perf_event_open": 241, "bpf": 280, "userfaultfd": 282}),
}
X32_SYSCALL_BIT = 0x40000000


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def supported() -> bool:
    """Whether we know this machine's system-call numbers."""
    return platform.machine() in ARCHES


def build_filter(machine: str | None = None) -> bytes:
    """The filter as a ``struct sock_filter`` array, ready for ``bwrap --seccomp``."""
    arch, numbers = ARCHES[machine or platform.machine()]
    blocked = sorted(set(numbers.values()))
    prog = [_insn(_LD_W_ABS, 0, 0, _OFF_ARCH),
            _insn(_JEQ_K, 1, 0, arch),
            _insn(_RET_K, 0, 0, _RET_KILL_PROCESS),
            _insn(_LD_W_ABS, 0, 0, _OFF_NR)]
    # After the loads: [x32 check], one JEQ per blocked call, ALLOW, ERRNO. Jumps count forward.
    checks = len(blocked) + (1 if (machine or platform.machine()) == "x86_64" else 0)
    errno_at = checks + 1  # index (relative to the first check) of the ERRNO return
    i = 0
    if checks > len(blocked):
        prog.append(_insn(_JGE_K, errno_at - i - 1, 0, X32_SYSCALL_BIT))
        i += 1
    for nr in blocked:
        prog.append(_insn(_JEQ_K, errno_at - i - 1, 0, nr))
        i += 1
    prog.append(_insn(_RET_K, 0, 0, _RET_ALLOW))
    prog.append(_insn(_RET_K, 0, 0, _RET_ERRNO | errno.EPERM))
    return b"".join(prog)
