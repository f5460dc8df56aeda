"""Helper processes that die with the harness: a compiler started on the host never outlives it.

``PR_SET_PDEATHSIG`` alone is not enough: it is not inherited, so ``g++`` would die with the harness but its
``cc1plus`` would run on, writing its output. :func:`run_tied` therefore starts a small supervisor (this
interpreter, no import of the package) that asks the kernel for ``SIGTERM`` when its parent dies, starts the
command in a process group of its own (with ``PR_SET_PDEATHSIG=SIGKILL`` on the command too) and, on that signal,
kills the whole group. No ``preexec_fn`` is used: it is unsafe in a process with threads.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

# argv: [supervisor, parent pid, command...]. It exits with the command's status (128 + n for signal n).
SUPERVISOR = r"""
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
child = 0
def stop(signum, frame):
    if child:
        try:
            os.killpg(child, signal.SIGKILL)
        except OSError:
            pass
    os._exit(137)
signal.signal(signal.SIGTERM, stop)
libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG: our parent's death is our SIGTERM
if os.getppid() != int(sys.argv[1]):  # the parent died before the line above
    os._exit(137)
child = os.fork()
if child == 0:
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        libc.prctl(1, signal.SIGKILL)
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
try:
    os.setpgid(child, child)
except OSError:
    pass
while True:
    try:
        _, status = os.waitpid(child, 0)
        break
    except InterruptedError:
        continue
try:
    os.killpg(child, signal.SIGKILL)  # whatever the command left behind
except OSError:
    pass
code = os.waitstatus_to_exitcode(status)
os._exit(128 - code if code < 0 else code)
"""


def run_tied(argv: Sequence[str], *, timeout: float | None = None, check: bool = False,
             input: str | bytes | None = None, text: bool = False) -> subprocess.CompletedProcess:
    """Run ``argv`` as :func:`subprocess.run` with ``capture_output=True`` does, but tied to this process: the
    command and every process it starts are killed when this thread's process dies (even by ``SIGKILL``) or
    when ``timeout`` passes (then :class:`subprocess.TimeoutExpired` is raised, as by :func:`subprocess.run`)."""
    full = [sys.executable, "-I", "-S", "-c", SUPERVISOR, str(os.getpid()), *argv]
    with subprocess.Popen(full, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=text) as proc:
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # the supervisor kills the command's whole group
            proc.communicate()
            raise
        except BaseException:
            proc.send_signal(signal.SIGTERM)
            raise
    done = subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done
