"""The resident judge: ``ioi-eval judge`` without paying the interpreter's imports on every call.

A script that calls ``ioi-eval judge`` once per submission (a contest system, a peer benchmark, a shell loop) pays
about a quarter of a second per process before its first test: Python, typer, pydantic and the judge's modules. With
``IOI_EVAL_JUDGE_SERVER=1`` the first call starts a **judge server** beside it (and judges in-process as usual); later
calls hand their command to that server, which forks a copy of itself with everything already imported, and that copy
runs the command as the caller would have: same arguments, folder, environment, umask, and the caller's own
stdin/stdout/stderr (passed over the socket). The caller waits, forwards its signals (Ctrl-C, ``kill``) to the copy,
and exits with the copy's exit status; when the caller dies, the copy gets SIGTERM. The output is byte for byte what
an in-process run prints.

**Whose server.** A server is reused only by a caller in the same process context as the one that started it, since
the fork inherits the server's, not the caller's:

- the same user and groups, capabilities, seccomp and no-new-privileges state, CPU affinity, nice value and rlimits;
- the same namespaces (pid, mount, network, user, ipc, uts, cgroup) and the same cgroup (a Slurm job's limits hold);
- the same interpreter, ``sys.path`` and ioi-eval code (every source file's size and mtime: an edit starts a new one);
- the same environment, except the variables read per call (:data:`PER_CALL_ENV`: ``TMPDIR``, ``IOI_EVAL_CACHE``,
  the terminal size...), which the copy takes from the caller.

The socket lives in ``$XDG_RUNTIME_DIR/ioi-eval-judge-UID/`` (else ``/tmp/ioi-eval-judge-UID/``), a folder that must
be the user's own with mode 0700, named by a digest of all of the above; the server also checks the peer's uid. It
ends after ``$IOI_EVAL_JUDGE_SERVER_IDLE_S`` seconds (default 600) with nothing to do, or when its socket is gone.

Only ``judge`` is served: other commands run in-process as always. This module imports nothing heavy: the caller's
side must stay cheaper than the imports it saves.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs the caller's side milliseconds
    from typing import Any, NoReturn

ENABLE_ENV = "IOI_EVAL_JUDGE_SERVER"
IDLE_ENV = "IOI_EVAL_JUDGE_SERVER_IDLE_S"
DEFAULT_IDLE_S = 600.0
#: Read by the forked judge from the caller's environment, so they may differ between the callers of one server
#: (nothing reads them at import time).
PER_CALL_ENV = frozenset({"TMPDIR", "IOI_EVAL_CACHE", "COLUMNS", "LINES", "PWD", "OLDPWD", "_", "SHLVL"})
#: Global options that may come before the command (``ioi-eval -v judge ...``).
_GLOBAL_FLAGS = frozenset({"-v", "-vv", "-vvv", "-q", "-qq", "--verbose", "--quiet"})
#: Imported by the server before it forks anything: what ``judge`` imports on its way to the first test.
PRELOAD = ("ioi_eval.cli.main", "ioi_eval.cli.judge", "ioi_eval.cli.progress", "ioi_eval.cli.render",
           "ioi_eval.judge.judge", "ioi_eval.judge.submission", "ioi_eval.sources", "ioi_eval.backends.local",
           "ioi_box.executor", "ioi_box.compare_py", "rich.markup")
_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)
_STATUS_FIELDS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "Cpus_allowed_list")
_NAMESPACES = ("pid", "mnt", "net", "user", "ipc", "uts", "cgroup")
_HEADER = struct.Struct("!I")


def _truthy(name: str) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "0", "off", "no", "false"):
        return False
    if raw in ("1", "on", "yes", "true"):
        return True
    sys.stderr.write(f"error: ${name} must be 1 or 0, not {raw!r}\n")
    sys.exit(2)


def command_of(args: list[str]) -> str | None:
    """The command ``ioi-eval ARGS`` runs (after the global flags), or None."""
    for arg in args:
        if arg in _GLOBAL_FLAGS:
            continue
        return None if arg.startswith("-") else arg
    return None


# -- whose server: the context digest ----------------------------------------------------------------------------
def _package_dirs() -> list[str]:
    """The folders of ``ioi_eval`` and ``ioi_box``, found without importing ``ioi_box`` (its import is the cost)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = [here]
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        try:
            spec = find("ioi_box", None) if find is not None else None
        except Exception:
            spec = None
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
            break
    return dirs


def _code_lines(root: str) -> list[str]:
    """One line per file under ``root`` (its path, size and mtime), ``__pycache__`` left out."""
    lines: list[str] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                elif entry.name.endswith((".py", ".so", ".json", ".toml")):
                    st = entry.stat()
                    lines.append(f"{entry.path} {st.st_size} {st.st_mtime_ns}")
    return sorted(lines)


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def context_lines() -> list[str]:
    """Everything a forked judge inherits from the server instead of from its caller (see the module doc)."""
    import resource

    lines = [f"ids {os.getuid()} {os.geteuid()} {os.getgid()} {os.getegid()} {sorted(os.getgroups())}",
             f"python {sys.executable} {sys.version} {sys.path}",
             f"nice {os.getpriority(os.PRIO_PROCESS, 0)}"]
    for ns in _NAMESPACES:
        try:
            lines.append(f"ns {ns} {os.readlink(f'/proc/self/ns/{ns}')}")
        except OSError:
            lines.append(f"ns {ns} -")
    lines.append("cgroup " + _read("/proc/self/cgroup").replace("\n", ";"))
    lines.extend(ln for ln in _read("/proc/self/status").splitlines() if ln.split(":")[0] in _STATUS_FIELDS)
    for name in sorted(n for n in dir(resource) if n.startswith("RLIMIT_")):
        lines.append(f"{name} {resource.getrlimit(getattr(resource, name))}")
    lines.extend(f"env {k}={v}" for k, v in sorted(os.environ.items()) if k not in PER_CALL_ENV)
    for root in _package_dirs():
        lines.extend(_code_lines(root))
    return lines


def socket_path() -> str:
    """The socket of the server for this caller's context (its folder made, private, if missing).

    :raises OSError: no private folder can be had (named in the message).
    """
    try:
        from _blake2 import blake2b
    except ImportError:  # an interpreter without the builtin module
        from hashlib import blake2b
    digest = blake2b("\n".join(context_lines()).encode(), digest_size=16).hexdigest()
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    if len(base) > 60 or not os.path.isdir(base):  # a socket path has at most 107 bytes
        base = "/tmp"
    folder = os.path.join(base, f"ioi-eval-judge-{os.geteuid()}")
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    st = os.lstat(folder)
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise OSError(f"{folder} is not a private folder of uid {os.geteuid()} (owner {st.st_uid}, "
                      f"mode {stat.S_IMODE(st.st_mode):o})")
    return os.path.join(folder, digest + ".sock")


# -- the caller's side -------------------------------------------------------------------------------------------
def serve_if_running(argv: list[str]) -> None:
    """With ``$IOI_EVAL_JUDGE_SERVER`` on and a ``judge`` command: have the server run it and exit with its status;
    else (or no server yet: one is started for the next call) return, and the command runs in-process."""
    if not _truthy(ENABLE_ENV) or command_of(argv[1:]) != "judge":
        return
    verbose = any(a.startswith("-v") or a == "--verbose" for a in argv[1:])
    try:
        path = socket_path()
    except OSError as exc:
        sys.stderr.write(f"warning: judge server not used: {exc}\n")
        return
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        _start_server(path)
        return
    try:
        code = _run_remote(sock, argv, path, verbose)
    except KeyboardInterrupt:  # Ctrl-C before the fork's pid came: it sees the hang-up and ends
        sys.exit(130)
    if code is None:  # the server went before it forked a judge: nothing ran, so run it here
        return
    _exit_like(code)


def _std_fds() -> list[int]:
    """Descriptors 0, 1, 2 to pass, /dev/null for any that is closed."""
    fds = []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            fds.append(fd)
        except OSError:
            fds.append(os.open(os.devnull, os.O_RDWR))
    return fds


def _run_remote(sock: socket.socket, argv: list[str], path: str, verbose: bool) -> int | None:
    """Send the command; the forked judge's exit status (negative: the signal that ended it), or None when the
    server went before forking one."""
    import array
    import json

    payload = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": _umask(),
                          "path": sys.path}).encode()
    data = _HEADER.pack(len(payload)) + payload
    fds = array.array("i", _std_fds())
    try:
        sent = sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        sock.sendall(data[sent:])
    except OSError:
        return None
    reader = _Lines(sock)
    first = reader.line()
    if first is None or not first.startswith("pid "):
        return None
    pid = int(first.split()[1])
    if verbose:
        sys.stderr.write(f"ioi-eval: judged by the judge server's fork, pid {pid} ({path})\n")

    def forward(signum: int, _frame: Any) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for s in _FORWARDED:
        signal.signal(s, forward)
    last = reader.line()
    if last is None or not last.startswith("status "):
        sys.stderr.write(f"error: the judge server ({path}) ended before judge pid {pid} reported its exit status; "
                         f"set {ENABLE_ENV}=0 to judge in-process\n")
        return 1
    return int(last.split()[1])


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class _Lines:
    """Lines from a socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buf = sock, b""

    def line(self) -> str | None:
        while b"\n" not in self.buf:
            try:
                chunk = self.sock.recv(4096)
            except InterruptedError:
                continue
            except OSError:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()


def _exit_like(code: int) -> NoReturn:
    """Exit with ``code``, or (negative) die of that signal as the judge did."""
    sys.stdout.flush()
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        code = 128 - code
    sys.exit(code)


def _beside(path: str, suffix: str) -> str:
    """The server's file with ``suffix`` (``.lock``, ``.log``, ``.pid``) beside its socket ``path``."""
    return path[: -len(".sock")] + suffix


def _take_lock(path: str) -> int | None:
    """The server's lock beside ``path``, taken (its descriptor), or None when a server holds it."""
    import fcntl

    fd = os.open(_beside(path, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _start_server(path: str) -> None:
    """Start a server for ``path`` in the background, unless one is starting already (it holds the lock)."""
    import subprocess

    _idle_s()  # a bad setting stops here, not in the background server's log
    lock = _take_lock(path)
    if lock is None:
        return  # a server holds it: starting, or about to answer
    os.close(lock)  # the server takes it for its lifetime
    with open(_beside(path, ".log"), "ab") as log:
        subprocess.Popen([sys.executable, "-m", __name__, path], stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         cwd="/", start_new_session=True, close_fds=True)


# -- the server --------------------------------------------------------------------------------------------------
def serve(path: str, idle_s: float) -> int:
    """Serve ``path`` until idle for ``idle_s`` seconds or the socket is gone; 0, or 1 when another server has it."""
    import importlib
    import select
    import time

    lock = _take_lock(path)
    if lock is None:
        return 1
    for name in PRELOAD:
        importlib.import_module(name)
    from .main import command

    prepared = command("judge")  # built once: a fork only parses its arguments
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.exists(path):
        os.unlink(path)  # a dead server's (we hold the lock: no live one has it)
    listener.bind(path)
    listener.listen(64)
    ino = os.stat(path).st_ino
    pid_file = _beside(path, ".pid")
    with open(pid_file, "w") as f:
        f.write(f"{os.getpid()}\n")
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: None)  # ends the loop below through the wake-up pipe
    children: dict[int, socket.socket] = {}
    last_busy = time.monotonic()
    try:
        while True:
            ready, _, _ = select.select([listener, wake_r], [], [], 1.0)
            if wake_r in ready:
                woke = os.read(wake_r, 256)
                if signal.SIGTERM in woke:
                    break
            _reap(children)
            if listener in ready:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    conn = None
                if conn is not None:
                    _fork_judge(conn, listener, (wake_r, wake_w, lock), children, prepared)
            if children:
                last_busy = time.monotonic()
            elif time.monotonic() - last_busy > idle_s:
                break
            try:
                if os.stat(path).st_ino != ino:
                    break
            except OSError:
                break
    finally:
        listener.close()
        for conn in children.values():
            conn.close()
        try:
            if os.stat(path).st_ino == ino:
                os.unlink(path)
                os.unlink(pid_file)
        except OSError:
            pass
    return 0


def _reap(children: dict[int, socket.socket]) -> None:
    """Send each ended judge's exit status to its caller."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is None:
            continue
        code = os.waitstatus_to_exitcode(status)  # negative: the signal that ended it
        with contextlib.suppress(OSError):
            conn.sendall(f"status {code}\n".encode())
        conn.close()


def _fork_judge(conn: socket.socket, listener: socket.socket, own_fds: tuple[int, ...],
                children: dict[int, socket.socket], prepared: Any) -> None:
    """Fork a judge for the caller on ``conn`` (after checking it is this user) and tell the caller its pid."""
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    if uid != os.geteuid():
        conn.close()
        return
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            listener.close()
            for other in children.values():  # other callers' connections: theirs to end, not this fork's
                other.close()
            signal.set_wakeup_fd(-1)
            for fd in own_fds:
                os.close(fd)
            code = _judge_in_fork(conn, prepared)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # a bug: its traceback on the caller's stderr and status 1, as in-process
            code = 1
            with contextlib.suppress(Exception):
                import traceback

                traceback.print_exc()
        finally:
            _end_fork(code)
    children[pid] = conn
    with contextlib.suppress(OSError):
        conn.sendall(f"pid {pid}\n".encode())


def _judge_in_fork(conn: socket.socket, prepared: Any) -> int:
    """In the fork: become the caller's process (stdio, folder, environment, umask) and run its command."""
    import array
    import json
    import tempfile
    import threading

    for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(s, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()
    fds = array.array("i")
    msg, ancdata, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(3 * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    if len(fds) != 3:
        raise OSError("the caller sent no stdin/stdout/stderr")
    while len(msg) < _HEADER.size or len(msg) < _HEADER.size + _HEADER.unpack_from(msg)[0]:
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("the caller hung up mid-request")
        msg += chunk
    request = json.loads(msg[_HEADER.size: _HEADER.size + _HEADER.unpack_from(msg)[0]])
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    sys.stdout.reconfigure(line_buffering=os.isatty(1))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.umask(request["umask"])
    tempfile.tempdir = None  # TMPDIR is the caller's

    def watch() -> None:  # the caller gone (killed): end the judge as its death would have
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="ioi-judge-server-watch", daemon=True).start()
    sys.argv, sys.path[:] = list(request["argv"]), request["path"]
    from .main import main

    main(prepared)
    return 0


def _end_fork(code: int) -> NoReturn:
    """Leave the fork as an interpreter exit would (exit handlers, flushed streams), but never return into the
    server's loop."""
    import atexit

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code & 0xFF if code >= 0 else 1)


def _idle_s() -> float:
    """``$IOI_EVAL_JUDGE_SERVER_IDLE_S``; a bad value is a one-line error (exit 2)."""
    from ..envvars import env_number
    from ..errors import EnvVarError

    try:
        return env_number(IDLE_ENV, DEFAULT_IDLE_S, kind=float, positive=True, unit="seconds")
    except EnvVarError as exc:
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(2)


def main() -> None:
    """``python -m ioi_eval.cli.judge_server SOCKET``: run a server (started by :func:`serve_if_running`)."""
    sys.exit(serve(sys.argv[1], _idle_s()))


if __name__ == "__main__":
    main()
