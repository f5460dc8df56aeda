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
_JSET_K = 0x45
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
_OFF_NR, _OFF_ARCH = 0, 4
_OFF_ARG0_LO = 16  # the low 32 bits of args[0] (both architectures here are little-endian)
CLONE_NEWUSER = 0x10000000

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
# clone, unshare, clone3: their flags hold CLONE_NEWUSER (clone3's in memory, out of a filter's reach)
USERNS_CALLS = {"x86_64": (56, 272, 435), "aarch64": (220, 97, 435)}


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def supported() -> bool:
    """Whether we know this machine's system-call numbers."""
    return platform.machine() in ARCHES


def build_filter(machine: str | None = None, block_userns: bool = False) -> bytes:
    """The filter as a ``struct sock_filter`` array, ready for ``bwrap --seccomp`` or the launcher.

    ``block_userns`` also refuses new user namespaces (``clone``/``unshare`` with CLONE_NEWUSER:
    EPERM; ``clone3``, whose flags a filter cannot read: ENOSYS, so libc falls back to ``clone``),
    as bubblewrap's ``--disable-userns`` does for its own sandboxes: the zygote sandbox has no
    user namespace of its own to disable them in.
    """
    machine = machine or platform.machine()
    arch, numbers = ARCHES[machine]
    blocked = sorted(set(numbers.values()))
    # Assembled with labels: (opcode, jump-if-true label, jump-if-false label, k); a label of
    # None falls through. Jumps only go forward.
    prog: list[tuple[int, str | None, str | None, int]] = [
        (_LD_W_ABS, None, None, _OFF_ARCH),
        (_JEQ_K, None, "kill", arch),
        (_LD_W_ABS, None, None, _OFF_NR),
    ]
    if machine == "x86_64":
        prog.append((_JGE_K, "errno", None, X32_SYSCALL_BIT))
    for nr in blocked:
        prog.append((_JEQ_K, "errno", None, nr))
    if block_userns:
        clone_nr, unshare_nr, clone3_nr = USERNS_CALLS[machine]
        prog += [(_JEQ_K, "flags", None, clone_nr), (_JEQ_K, "flags", None, unshare_nr),
                 (_JEQ_K, "enosys", None, clone3_nr)]
    labels: dict[str, int] = {}
    tail: list[tuple[str | None, tuple[int, str | None, str | None, int]]] = [(None, (_RET_K, None, None, _RET_ALLOW))]
    if block_userns:
        tail += [("flags", (_LD_W_ABS, None, None, _OFF_ARG0_LO)),
                 (None, (_JSET_K, "errno", None, CLONE_NEWUSER)),
                 (None, (_RET_K, None, None, _RET_ALLOW)),
                 ("enosys", (_RET_K, None, None, _RET_ERRNO | errno.ENOSYS))]
    tail += [("errno", (_RET_K, None, None, _RET_ERRNO | errno.EPERM)),
             ("kill", (_RET_K, None, None, _RET_KILL_PROCESS))]
    for label, insn in tail:
        if label:
            labels[label] = len(prog)
        prog.append(insn)

    def offset(i: int, label: str | None) -> int:
        return 0 if label is None else labels[label] - i - 1  # always forward: labels follow their jumps

    return b"".join(_insn(code, offset(i, jt), offset(i, jf), k) for i, (code, jt, jf, k) in enumerate(prog))
