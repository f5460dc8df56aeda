"""A stand-in for the ``e2b`` SDK with exactly the surface the E2B backend uses.

``FakeE2B`` mimics ``Sandbox.create``, ``sandbox.commands.run(background=True, stdin=True)``,
``commands.send_stdin``, ``handle.wait(on_stdout=, on_stderr=)``, ``files.write_files``,
``set_timeout``, ``kill``, ``Template().from_dockerfile()`` and ``Template.build``, and the SDK's
exception classes (same names). A sandbox's command is the REAL ``ioi_box.server`` run locally as
a child process, so batches are judged for real through the backend's code path; its stdout is
handed to ``on_stdout`` as text decoded the way the SDK does (UTF-8, errors replaced), in chunks
of random sizes. Every call is recorded; faults (rate limits, timeouts, lost sandboxes) are
injected through hooks.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import random
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

SANDBOX_DIR = str(Path(__file__).resolve().parent.parent / "sandbox")


def _real(name: str) -> Any:
    """The real SDK's function ``name`` (dotted, under ``e2b``), or None without the package."""
    try:
        import e2b.sandbox_sync.commands.command
        import e2b.sandbox_sync.commands.command_handle
        import e2b.sandbox_sync.filesystem.filesystem
    except ImportError:
        return None
    obj: Any = e2b
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def conform(name: str, *args: Any, **kwargs: Any) -> None:
    """Fail (TypeError) when a call would not fit the real SDK's signature (when the SDK is installed)."""
    import inspect

    fn = _real(name)
    if fn is None:
        return
    sig = inspect.signature(fn)
    bound = sig.bind(*args, **kwargs)
    for pname, param in sig.parameters.items():
        if param.kind is inspect.Parameter.VAR_KEYWORD and bound.arguments.get(pname):
            from e2b.connection_config import ApiParams  # what the SDK's **opts take

            unknown = set(bound.arguments[pname]) - set(ApiParams.__annotations__)
            if unknown:
                raise TypeError(f"{name}: unexpected keyword arguments {sorted(unknown)}")


class SandboxException(Exception):
    def __init__(self, *args: object, status_code: int | None = None) -> None:
        super().__init__(*args)
        self.status_code = status_code


class TimeoutException(SandboxException):
    pass


class RateLimitException(SandboxException):
    pass


class NotFoundException(SandboxException):
    pass


class SandboxNotFoundException(NotFoundException):
    pass


class SandboxNotRunningException(TimeoutException):
    pass


class InvalidArgumentException(SandboxException):
    pass


class AuthenticationException(Exception):
    pass


class ServiceBusyException(Exception):
    pass


class TemplateException(SandboxException):
    pass


class CommandExitException(SandboxException):
    def __init__(self, exit_code: int, stderr: str = "") -> None:
        super().__init__(f"exit code {exit_code}")
        self.exit_code = exit_code
        self.stderr = stderr


@dataclass
class CommandResult:
    exit_code: int
    stdout: str = ""
    stderr: str = ""


class FakeHandle:
    def __init__(self, sandbox: FakeSandbox, proc: subprocess.Popen) -> None:
        self.sandbox = sandbox
        self.proc = proc
        self.pid = proc.pid

    def wait(self, on_stdout: Callable[[str], None] | None = None,
             on_stderr: Callable[[str], None] | None = None) -> CommandResult:
        conform("sandbox_sync.commands.command_handle.CommandHandle.wait", self, on_stdout=on_stdout,
                on_stderr=on_stderr)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        rng = random.Random(self.pid)

        def pump(fd: int, cb: Callable[[str], None] | None) -> None:
            dec = codecs.getincrementaldecoder("utf-8")(errors="replace")
            while True:
                chunk = os.read(fd, rng.randint(1, 4096))
                if not chunk:
                    break
                text = dec.decode(chunk)
                if text and cb:
                    cb(text)
            tail = dec.decode(b"", final=True)
            if tail and cb:
                cb(tail)

        err = threading.Thread(target=pump, args=(self.proc.stderr.fileno(), on_stderr), daemon=True)
        err.start()
        pump(self.proc.stdout.fileno(), on_stdout)
        code = self.proc.wait()
        err.join(timeout=5)
        if self.sandbox.lost or self.sandbox.killed:
            raise SandboxNotRunningException(f"sandbox {self.sandbox.sandbox_id} is not running anymore")
        if code != 0:
            raise CommandExitException(code)
        return CommandResult(exit_code=0)


class FakeCommands:
    def __init__(self, sandbox: FakeSandbox) -> None:
        self.sandbox = sandbox
        self.handle: FakeHandle | None = None

    def run(self, *args: Any, **kwargs: Any) -> FakeHandle:
        conform("sandbox_sync.commands.command.Commands.run", self, *args, **kwargs)
        return self._run(*args, **kwargs)

    def _run(self, cmd: str, background: bool = False, envs: dict[str, str] | None = None, user: str | None = None,
             cwd: str | None = None, stdin: bool | None = None, timeout: float | None = 60, **_: Any) -> FakeHandle:
        sdk = self.sandbox.sdk
        sdk.record("run", self.sandbox.sandbox_id, cmd=cmd, background=background, envs=envs, user=user,
                   stdin=stdin, timeout=timeout)
        if sdk.run_fault is not None:
            exc = sdk.run_fault(self.sandbox)
            if exc is not None:
                raise exc
        assert background and stdin, "the backend must start the server in the background with stdin"
        # "cd /; <mount cgroup2>; exec python3 -m ioi_box.server ...": run the real server here
        argv = shlex.split(cmd.split("exec ", 1)[1])
        assert argv[0] == "python3"
        env = {**os.environ, **(envs or {})}
        env["PYTHONPATH"] = os.pathsep.join([SANDBOX_DIR, *os.environ.get("PYTHONPATH", "").split(os.pathsep)])
        proc = subprocess.Popen([sys.executable, *argv[1:]], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, start_new_session=True)
        self.handle = FakeHandle(self.sandbox, proc)
        return self.handle

    def send_stdin(self, pid: int, data: str | bytes, request_timeout: float | None = None) -> None:
        conform("sandbox_sync.commands.command.Commands.send_stdin", self, pid, data, request_timeout)
        sdk = self.sandbox.sdk
        data = data.encode() if isinstance(data, str) else data
        sdk.record("send_stdin", self.sandbox.sandbox_id, size=len(data))
        if sdk.stdin_fault is not None:
            exc = sdk.stdin_fault(self.sandbox, data)
            if exc is not None:
                raise exc
        if self.sandbox.lost or self.sandbox.killed:
            raise SandboxNotRunningException(f"sandbox {self.sandbox.sandbox_id} is not running anymore")
        assert self.handle is not None and self.handle.pid == pid and self.handle.proc.stdin is not None
        try:
            self.handle.proc.stdin.write(data)
            self.handle.proc.stdin.flush()
        except BrokenPipeError:
            raise SandboxNotRunningException("the process is gone") from None

    def close_stdin(self, pid: int, request_timeout: float | None = None) -> None:
        self.sandbox.sdk.record("close_stdin", self.sandbox.sandbox_id)
        if self.handle is not None and self.handle.proc.stdin is not None:
            self.handle.proc.stdin.close()


class FakeFiles:
    def __init__(self, sandbox: FakeSandbox) -> None:
        self.sandbox = sandbox

    def write_files(self, *args: Any, **kwargs: Any) -> list[dict]:
        conform("sandbox_sync.filesystem.filesystem.Filesystem.write_files", self, *args, **kwargs)
        return self._write_files(*args, **kwargs)

    def _write_files(self, files: list[dict], user: str | None = None, **_: Any) -> list[dict]:
        sdk = self.sandbox.sdk
        sdk.record("write_files", self.sandbox.sandbox_id, paths=[f["path"] for f in files],
                   size=sum(len(f["data"]) for f in files), user=user)
        if sdk.files_fault is not None:
            exc = sdk.files_fault(self.sandbox)
            if exc is not None:
                raise exc
        for f in files:  # the "sandbox" is this machine: its paths are host paths
            p = Path(f["path"])
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(f["data"])
            self.sandbox.written.append(p)
        return [{"path": f["path"]} for f in files]


class FakeSandbox:
    def __init__(self, sdk: FakeE2B, template: str, timeout: int | None, metadata: dict | None) -> None:
        self.sdk = sdk
        self.sandbox_id = f"sbx-{next(sdk.ids)}"
        self.template = template
        self.timeout = timeout
        self.metadata = metadata or {}
        self.commands = FakeCommands(self)
        self.files = FakeFiles(self)
        self.killed = False
        self.lost = False
        self.written: list[Path] = []

    def set_timeout(self, timeout: int) -> None:
        conform("Sandbox.set_timeout", self, timeout)
        self.sdk.record("set_timeout", self.sandbox_id, timeout=timeout)
        self.timeout = timeout

    def _stop(self) -> None:
        h = self.commands.handle
        if h is not None and h.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(h.proc.pid, signal.SIGKILL)
            h.proc.wait()
        for p in self.written:
            p.unlink(missing_ok=True)

    def kill(self) -> bool:
        conform("Sandbox.kill", self)
        self.sdk.record("kill", self.sandbox_id)
        if self.sdk.kill_fault is not None:
            exc = self.sdk.kill_fault(self)
            if exc is not None:
                raise exc
        was = not (self.killed or self.lost)
        self.killed = True
        self._stop()
        with self.sdk.lock:
            self.sdk.live.discard(self)
        return was

    def lose(self) -> None:
        """E2B lost this sandbox (its VM died, it timed out)."""
        self.lost = True
        self._stop()
        with self.sdk.lock:
            self.sdk.live.discard(self)


class FakeTemplate:
    built: ClassVar[list[dict]] = []

    def __init__(self, file_context_path: str | None = None, **_: Any) -> None:
        self.file_context_path = file_context_path
        self.dockerfile: str | None = None
        self.context_listing: list[str] = []

    def from_dockerfile(self, content: str) -> FakeTemplate:
        self.dockerfile = content
        return self

    @classmethod
    def build(cls, template: FakeTemplate, name: str | None = None, **kw: Any) -> Any:
        conform("Template.build", template, name, **kw)
        ctx = Path(template.file_context_path or ".")
        listing = sorted(str(p.relative_to(ctx)) for p in ctx.iterdir())
        cls.built.append({"name": name, "dockerfile": template.dockerfile, "context": listing, **kw})
        if kw.get("on_build_logs"):
            kw["on_build_logs"]("[info] step 1/9")
        return type("BuildInfo", (), {"template_id": "tpl-123", "build_id": "b-1", "name": name})()


@dataclass
class FakeE2B:
    """The fake ``e2b`` module; hooks return an exception to raise (or None) for each call."""

    templates: set[str] = field(default_factory=lambda: {"ioi-eval-judge"})
    max_concurrent: int | None = None  # more live sandboxes than this: RateLimitException
    create_fault: Callable[[int], BaseException | None] | None = None  # by create call number
    run_fault: Callable[[FakeSandbox], BaseException | None] | None = None
    stdin_fault: Callable[[FakeSandbox, bytes], BaseException | None] | None = None
    files_fault: Callable[[FakeSandbox], BaseException | None] | None = None
    kill_fault: Callable[[FakeSandbox], BaseException | None] | None = None
    calls: list[tuple] = field(default_factory=list)
    sandboxes: list[FakeSandbox] = field(default_factory=list)
    live: set[FakeSandbox] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    on_created: Callable[[FakeSandbox], None] | None = None

    def __post_init__(self) -> None:
        import itertools

        self.ids = itertools.count(1)
        self._creates = itertools.count(0)
        sdk = self

        class Sandbox:
            @classmethod
            def create(cls, *args: Any, **kwargs: Any) -> FakeSandbox:
                conform("Sandbox.create", *args, **kwargs)
                return cls._create(*args, **kwargs)

            @classmethod
            def _create(cls, template: str | None = None, timeout: int | None = None, metadata: dict | None = None,
                        allow_internet_access: bool | None = None, **_: Any) -> FakeSandbox:
                n = next(sdk._creates)
                sdk.record("create", None, template=template, timeout=timeout, metadata=metadata,
                           allow_internet_access=allow_internet_access)
                if sdk.create_fault is not None:
                    exc = sdk.create_fault(n)
                    if exc is not None:
                        raise exc
                if template not in sdk.templates:  # what the API answers: a plain SandboxException, 404
                    raise SandboxException(f"404: template '{template}' not found", status_code=404)
                with sdk.lock:
                    if sdk.max_concurrent is not None and len(sdk.live) >= sdk.max_concurrent:
                        raise RateLimitException("concurrent sandboxes limit reached")
                    sbx = FakeSandbox(sdk, template, timeout, metadata)
                    sdk.sandboxes.append(sbx)
                    sdk.live.add(sbx)
                if sdk.on_created is not None:
                    sdk.on_created(sbx)
                return sbx

        self.Sandbox = Sandbox
        self.Template = FakeTemplate
        for exc in (SandboxException, TimeoutException, RateLimitException, NotFoundException,
                    SandboxNotFoundException, SandboxNotRunningException, InvalidArgumentException,
                    AuthenticationException, ServiceBusyException, CommandExitException, TemplateException):
            setattr(self, exc.__name__, exc)

    def record(self, op: str, sandbox_id: str | None, **kw: Any) -> None:
        with self.lock:
            self.calls.append((op, sandbox_id, kw))

    def ops(self, op: str) -> list[tuple]:
        with self.lock:
            return [c for c in self.calls if c[0] == op]

    def cleanup(self) -> None:
        """Stop every server process still running (a test that failed half-way)."""
        for s in list(self.sandboxes):
            s._stop()
