"""The E2B backend (``--backend e2b``): a pool of E2B cloud sandboxes, each running the in-box server.

Each sandbox is made from the judge template (``ioi-eval sandbox build --e2b``: the image of
``sandbox/Dockerfile`` built by E2B's template builder) and runs one long-lived
``python3 -m ioi_box.server --base64-out`` started through the SDK's command API; it is the same
executor as on the other backends, each run isolated by bubblewrap inside the VM. The remote
protocol (:mod:`.remote`) travels over that command's streams:

- host → box: raw frames through ``commands.send_stdin`` (it takes bytes unchanged), in chunks of
  at most :data:`STDIN_CHUNK`; blobs of a put request larger than :data:`STAGE_THRESHOLD` go
  through the SDK's file API instead (``files.write_files`` into a staging folder, then a
  ``PutBlobs(staged=...)`` frame moves them into the blob store): one upload, not a train of RPCs;
- box → host: the SDK hands a command's stdout over as decoded UTF-8 text, which would mangle raw
  frames, so the server armours its output as base64 lines (:mod:`ioi_box.textwire`) and
  :class:`LineReader` turns them back into the byte stream the frame reader expects.

One long-lived command per sandbox keeps a test at one round trip; running the server once per
batch (``commands.run`` with files for the batch and result) would add a command start and two
file transfers to every test.

Limits: E2B caps an account's live sandboxes (:data:`DEFAULT_MAX_SANDBOXES`, ``$IOI_EVAL_E2B_MAX_SANDBOXES``) and
how fast it creates them (:data:`DEFAULT_CREATE_RATE` per second, ``$IOI_EVAL_E2B_CREATE_RATE``). Each sandbox
holds a lease of a :class:`~.limiter.Limiter` from before its creation until it is killed, and each creation
waits for its turn under the rate (:meth:`~.limiter.Limiter.pace`). The limiter is this process's by default;
the Ray backend gives every actor's E2B backend one named limiter actor, so the limits hold across the cluster.
A lease lasts as long as its sandbox would live unrenewed (:data:`SANDBOX_TIMEOUT_S` plus a margin) and is
renewed with it: a process that dies without killing its sandbox gives its lease back when E2B ends the sandbox.

Failures: creating a sandbox and every SDK call that E2B refuses before acting on it (rate limit,
service busy) are retried with exponential backoff and jitter (:class:`Backoff`), each retry logged
as a warning. A sandbox that is lost (killed, timed out, unreachable) breaks its channel; the pool
replaces it and retries its jobs in flight once on a fresh sandbox; jobs that still cannot run come
back as sandbox errors (SE) naming the cause, never as a silent zero. Sandboxes are killed when the
box closes (also on Ctrl-C and at interpreter exit); a sandbox this process could not kill expires
on its own: its E2B timeout is :data:`SANDBOX_TIMEOUT_S`, renewed every :data:`KEEPALIVE_S`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

from ioi_box.protocol import PutBlobs, Reply
from ioi_box.protocol import Request as _Request
from ioi_box.textwire import decode_line

from ..envvars import env_number
from ..errors import ChannelError, E2BError, IoiEvalError
from .limiter import Limiter, LimitTimeout, LocalLimiter
from .remote import ChannelPool, RemoteBox, StreamChannel

log = logging.getLogger("ioi_eval.e2b")

API_KEY_ENV = "E2B_API_KEY"
DEFAULT_TEMPLATE = os.environ.get("IOI_EVAL_E2B_TEMPLATE", "ioi-eval-judge")
SLOTS_PER_SANDBOX = 4  # parallel runs per sandbox: the template's vCPUs (`sandbox build --e2b --cpu`)
DEFAULT_MAX_SANDBOXES = 20  # E2B's concurrency limit of a hobby account; IOI_EVAL_E2B_MAX_SANDBOXES
DEFAULT_CREATE_RATE = 1.0  # sandbox creations per second (E2B: 1/s hobby, 5/s pro); IOI_EVAL_E2B_CREATE_RATE
SANDBOX_TIMEOUT_S = 600  # E2B kills a sandbox this long after its last renewal
LEASE_MARGIN_S = 30  # a lease outlives its sandbox's E2B timeout by this much
LEASE_WAIT_S = 300.0  # how long a sandbox waits for a lease (the concurrency limit) before its start fails
KEEPALIVE_S = 120
STDIN_CHUNK = 1 << 20  # bytes per send_stdin call
STAGE_THRESHOLD = 256 << 10  # put requests with more blob bytes go through the file API
STAGING_DIR = "/tmp/ioi-eval-staged"
BOX_PYTHONPATH = "/opt/ioi-eval/lib:/opt/ioi-eval"  # where the Dockerfile installs ioi_box and pydantic
STDERR_KEPT = 8192
# Per-run cgroups need a cgroup file system; a VM whose init did not mount one gets cgroup2 (else rlimits).
MOUNT_CGROUPS = "(mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup) >/dev/null 2>&1"

T = TypeVar("T")


def load_sdk() -> ModuleType:
    """The ``e2b`` package, or a clear error saying how to install it."""
    try:
        import e2b
    except ImportError as exc:
        raise E2BError(f"the e2b package is not installed ({exc}): pip install 'ioi-eval[e2b]'") from None
    return e2b


def require_api_key() -> str:
    """``$E2B_API_KEY``, or a clear error."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise E2BError(f"{API_KEY_ENV} is not set: create a key at https://e2b.dev/dashboard and export it")
    return key


def _is(sdk: ModuleType, exc: BaseException, *names: str) -> bool:
    classes = tuple(c for c in (getattr(sdk, n, None) for n in names) if isinstance(c, type))
    return bool(classes) and isinstance(exc, classes)


def describe(sdk: ModuleType, exc: BaseException) -> str:
    """``<cause>: <Class>: <message>``, the cause in words (for logs and SE messages)."""
    if _is(sdk, exc, "RateLimitException"):
        cause = "rate limited by E2B"
    elif _is(sdk, exc, "ServiceBusyException"):
        cause = "E2B is busy"
    elif _is(sdk, exc, "SandboxNotRunningException", "SandboxNotFoundException"):
        cause = "the sandbox is gone (killed or timed out)"
    elif _is(sdk, exc, "SandboxUnreachableException"):
        cause = "the sandbox is unreachable"
    elif _is(sdk, exc, "TimeoutException"):
        cause = "E2B timed out"
    elif _is(sdk, exc, "AuthenticationException"):
        cause = f"E2B rejected the API key (${API_KEY_ENV})"
    elif isinstance(exc, OSError) or type(exc).__module__.startswith(("httpx", "httpcore")):
        cause = "network error"
    else:
        cause = "E2B error"
    return f"{cause}: {type(exc).__name__}: {exc}"


def refused(sdk: ModuleType, exc: BaseException) -> bool:
    """Whether E2B refused a call without acting on it (so repeating it cannot duplicate anything)."""
    return _is(sdk, exc, "RateLimitException", "ServiceBusyException")


def transient(sdk: ModuleType, exc: BaseException) -> bool:
    """Whether a failed sandbox creation is worth retrying (refused, timed out, a server error, network trouble)."""
    if _is(sdk, exc, "AuthenticationException", "NotFoundException", "InvalidArgumentException",
           "TemplateException"):
        return False
    return (refused(sdk, exc) or _is(sdk, exc, "TimeoutException") or isinstance(exc, OSError)
            or getattr(exc, "status_code", None) in (500, 502, 504)
            or type(exc).__module__.startswith(("httpx", "httpcore")))


@dataclass
class Backoff:
    """Exponential backoff with jitter: attempt k waits ``min(max_s, base_s·2^k)`` times a factor in [0.5, 1)."""

    attempts: int = 6
    base_s: float = 1.0
    max_s: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    retries: dict[str, int] = field(default_factory=dict)  # cause -> retries made (reported at close)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (0-based)."""
        cap = min(self.max_s, self.base_s * 2 ** attempt)
        return cap * (0.5 + 0.5 * self.rand())

    def call(self, what: str, fn: Callable[[], T], retry_if: Callable[[BaseException], bool],
             describe_exc: Callable[[BaseException], str]) -> T:
        """``fn()``, repeated while it fails with an error ``retry_if`` accepts, at most ``attempts`` times."""
        for attempt in range(self.attempts):
            try:
                return fn()
            except Exception as exc:
                if not retry_if(exc) or attempt == self.attempts - 1:
                    raise
                why = describe_exc(exc)
                with self._lock:
                    cause = why.split(":", 1)[0]
                    self.retries[cause] = self.retries.get(cause, 0) + 1
                wait = self.delay(attempt)
                log.warning("e2b: %s failed (%s); retry %d/%d in %.1f s", what, why, attempt + 1,
                            self.attempts - 1, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")

    def call_sdk(self, sdk: ModuleType, what: str, fn: Callable[[], T],
                 retry_if: Callable[[ModuleType, BaseException], bool] = refused) -> T:
        """:meth:`call` for an E2B SDK call: retried while ``retry_if(sdk, exc)`` (by default: while E2B refuses it)."""
        return self.call(what, fn, lambda e: retry_if(sdk, e), lambda e: describe(sdk, e))


# -- the byte streams over the SDK's command API --------------------------------------------------

class LineReader:
    """A blocking byte stream made of the armoured lines that the SDK's stdout callback feeds in."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._buf = bytearray()
        self._parts: list[str] = []  # the current line so far
        self._eof = False
        self._error: str | None = None
        self.stray: deque[str] = deque(maxlen=20)  # lines that were not protocol data

    def feed(self, text: str) -> None:
        """Take a chunk of stdout (any split: lines may span chunks)."""
        if "\n" not in text:
            self._parts.append(text)
            return
        lines = ("".join(self._parts) + text).split("\n")
        rest = lines.pop()
        self._parts = [rest] if rest else []
        got = bytearray()
        error = None
        for line in lines:
            try:
                data = decode_line(line)
            except ValueError as exc:
                error = str(exc)
                break
            if data is None:
                if line.strip():
                    self.stray.append(line[:500])
            else:
                got += data
        with self._cond:
            self._buf += got
            if error is not None:
                self._error, self._eof = error, True
            self._cond.notify_all()

    def close(self, error: str | None = None) -> None:
        """End of stream (with the reason when it broke)."""
        with self._cond:
            if error is not None and self._error is None:
                self._error = error
            self._eof = True
            self._cond.notify_all()

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; blocks until some arrive; b"" at the end (OSError when the stream broke)."""
        with self._cond:
            while not self._buf and not self._eof:
                self._cond.wait()
            if not self._buf:
                if self._error is not None:
                    raise OSError(self._error)
                return b""
            out = bytes(self._buf[:n])
            del self._buf[:n]
            return out


class StdinWriter:
    """Frames to the server's stdin: ``send_stdin`` per flush, in chunks; refused calls are retried."""

    def __init__(self, sdk: ModuleType, sandbox: Any, pid: int, backoff: Backoff) -> None:
        self._sdk = sdk
        self._sandbox = sandbox
        self._pid = pid
        self._backoff = backoff
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        """Buffer ``data`` until the next flush."""
        self._buf += data
        return len(data)

    def flush(self) -> None:
        """Send the buffered bytes; OSError when they cannot be delivered (the channel then breaks)."""
        data, self._buf = bytes(self._buf), bytearray()
        for i in range(0, len(data), STDIN_CHUNK):
            chunk = data[i:i + STDIN_CHUNK]
            try:
                self._backoff.call_sdk(self._sdk, "send_stdin",
                                       lambda c=chunk: self._sandbox.commands.send_stdin(self._pid, c))
            except Exception as exc:
                # A call that timed out may have been delivered: the stream's state is unknown.
                raise OSError(f"cannot send to the sandbox ({describe(self._sdk, exc)})") from exc

    def close(self) -> None:
        """Nothing to do: the channel kills the whole sandbox next (no RPC to a sandbox that may be dead)."""


# -- one sandbox ----------------------------------------------------------------------------------

@dataclass
class SandboxSettings:
    """How the sandboxes of a pool are made and run."""

    template: str
    slots: int
    isolation: str | None
    timeout_s: int = SANDBOX_TIMEOUT_S
    keepalive_s: float = KEEPALIVE_S
    backoff: Backoff = field(default_factory=Backoff)
    run_id: str = field(default_factory=lambda: f"{os.getpid()}-{secrets.token_hex(3)}")
    limiter: Limiter | None = None  # the concurrency and creation-rate limits (None: unlimited)
    lease_wait_s: float = LEASE_WAIT_S

    @property
    def lease_ttl_s(self) -> float:
        """How long a sandbox's lease lasts unrenewed: as long as E2B keeps the sandbox unrenewed, and a margin."""
        return self.timeout_s + LEASE_MARGIN_S

    def command(self) -> str:
        """The shell command that starts the server in a sandbox (mounting cgroup2 first if the VM has none)."""
        iso = f" --isolation {self.isolation}" if self.isolation else ""
        return f"cd /; {MOUNT_CGROUPS}; exec python3 -m ioi_box.server --base64-out --workers {self.slots}{iso}"


_live: set[E2BChannel] = set()  # sandboxes of this process not killed yet
_live_lock = threading.Lock()


@atexit.register
def kill_leftovers() -> None:
    """Kill the sandboxes of channels nobody closed (the interpreter is exiting)."""
    with _live_lock:
        left = list(_live)
    for ch in left:
        with contextlib.suppress(Exception):
            ch.close()


class E2BChannel(StreamChannel):
    """One E2B sandbox running ``ioi_box.server``, spoken to through the SDK's command API."""

    def __init__(self, sdk: ModuleType, settings: SandboxSettings, name: str) -> None:
        self.sdk = sdk
        self.settings = settings
        self._cause: str | None = None  # why the stream ended, in E2B's words
        self._stderr: deque[str] = deque()
        self._stderr_len = 0
        self._closed = threading.Event()
        self._killed = False
        self.lease: str | None = None
        backoff = settings.backoff
        limiter = settings.limiter
        if limiter is not None:
            self.lease = self._acquire(limiter, f"{settings.run_id}/{name}")

        def create() -> Any:
            if limiter is not None:
                limiter.pace()  # each attempt is a creation E2B counts
            return sdk.Sandbox.create(template=settings.template, timeout=settings.timeout_s,
                                      metadata={"ioi-eval": settings.run_id, "box": name},
                                      allow_internet_access=False)

        try:
            self.sandbox = backoff.call_sdk(sdk, "creating a sandbox", create, retry_if=transient)
        except Exception as exc:
            # A creation that timed out or met a network or server error may have made a sandbox nobody can
            # kill: its lease stays until that sandbox would have expired. A refused or rejected one made none.
            if refused(sdk, exc) or not transient(sdk, exc):
                self._release_lease()
            raise E2BError(self._create_error(exc)) from None
        self.sandbox_id = str(getattr(self.sandbox, "sandbox_id", "?"))
        with _live_lock:
            _live.add(self)
        try:
            self.handle = backoff.call_sdk(
                sdk, "starting the box server",
                lambda: self.sandbox.commands.run(settings.command(), background=True, stdin=True, timeout=0,
                                                  user="root", envs={"PYTHONPATH": BOX_PYTHONPATH}))
        except Exception as exc:
            self._kill()
            raise E2BError(f"sandbox {self.sandbox_id}: cannot start the box server "
                           f"({describe(sdk, exc)})") from None
        self._lines = LineReader()
        self._writer = StdinWriter(sdk, self.sandbox, self.handle.pid, backoff)
        threading.Thread(target=self._pump, name=f"ioi-e2b-{name}", daemon=True).start()
        threading.Thread(target=self._keepalive, name=f"ioi-e2b-keep-{name}", daemon=True).start()
        super().__init__(self._lines, self._writer, f"{name} (e2b sandbox {self.sandbox_id})")  # type: ignore[arg-type]

    def _acquire(self, limiter: Limiter, owner: str) -> str:
        wait = self.settings.lease_wait_s
        try:
            return limiter.acquire(owner, self.settings.lease_ttl_s, wait)
        except LimitTimeout as exc:
            raise E2BError(f"no E2B sandbox came free within {wait:g} s under the concurrency limit ({exc}; "
                           "IOI_EVAL_E2B_MAX_SANDBOXES)") from None
        except Exception as exc:  # the limiter itself is unreachable (a lost Ray actor...)
            raise E2BError(f"the E2B limiter does not answer: {type(exc).__name__}: {exc}") from None

    def _release_lease(self) -> None:
        """Give the lease back (once); a limiter that does not answer lets it expire instead."""
        lease, self.lease = self.lease, None
        if lease is not None and self.settings.limiter is not None:
            try:
                self.settings.limiter.release(lease)
            except Exception as exc:
                log.warning("e2b: cannot release a limiter lease (%s: %s); it expires within %d s",
                            type(exc).__name__, exc, self.settings.lease_ttl_s)

    def _create_error(self, exc: BaseException) -> str:
        t = self.settings.template
        # The API answers an unknown template with 404 (a plain SandboxException carrying the status).
        if _is(self.sdk, exc, "NotFoundException") or getattr(exc, "status_code", None) == 404:
            return f"E2B has no template {t!r}: build it with `ioi-eval sandbox build --e2b` ({exc})"
        if _is(self.sdk, exc, "AuthenticationException"):
            return f"E2B rejected the API key (${API_KEY_ENV}): {exc}"
        if _is(self.sdk, exc, "TemplateException"):
            return f"the E2B template {t!r} is too old for this SDK: rebuild it (`ioi-eval sandbox build --e2b`): {exc}"
        tries = self.settings.backoff.attempts if transient(self.sdk, exc) else 1
        return f"cannot create an E2B sandbox from template {t!r} after {tries} attempt(s): {describe(self.sdk, exc)}"

    def _on_stderr(self, text: str) -> None:
        self._stderr.append(text)
        self._stderr_len += len(text)
        while self._stderr_len > STDERR_KEPT and len(self._stderr) > 1:
            self._stderr_len -= len(self._stderr.popleft())

    def _pump(self) -> None:
        """Feed the server's stdout to the line reader until the command ends or the stream breaks."""
        error = None
        try:
            result = self.handle.wait(on_stdout=self._lines.feed, on_stderr=self._on_stderr)
            self._cause = f"the box server exited (status {getattr(result, 'exit_code', '?')})"
        except Exception as exc:
            code = getattr(exc, "exit_code", None)
            if code is not None:
                self._cause = f"the box server exited (status {code})"
            else:
                self._cause = describe(self.sdk, exc)
                error = self._cause
        if self._closed.is_set():
            self._cause = None
        self._lines.close(error)

    def _keepalive(self) -> None:
        """Push the sandbox's E2B timeout forward while the channel is open."""
        while not self._closed.wait(self.settings.keepalive_s):
            try:
                self.sandbox.set_timeout(self.settings.timeout_s)
            except Exception as exc:
                log.warning("e2b: cannot renew sandbox %s (%s)", self.sandbox_id, describe(self.sdk, exc))
                continue  # its lease runs out when the sandbox does
            self._renew_lease()

    def _renew_lease(self) -> None:
        limiter, lease = self.settings.limiter, self.lease
        if limiter is None or lease is None:
            return
        try:
            if not limiter.renew(lease, self.settings.lease_ttl_s):
                log.warning("e2b: the lease of sandbox %s had expired (the limiter restarted, or renewals were "
                            "late): the concurrency limit may be exceeded by one", self.sandbox_id)
        except Exception as exc:
            log.warning("e2b: cannot renew the lease of sandbox %s (%s: %s)", self.sandbox_id, type(exc).__name__,
                        exc)

    def stderr_text(self) -> str:
        """The tail of what the server wrote on stderr."""
        return "".join(self._stderr).strip()

    def why_broken(self) -> str:
        why = super().why_broken()
        if self._cause:
            why += f" ({self._cause})"
        tail = self.stderr_text() or "\n".join(self._lines.stray)
        return f"{why}: {tail[-2000:]}" if tail else why

    def call(self, request: _Request, payload: bytes = b"", timeout: float | None = None) -> tuple[Reply, bytes]:
        """As :meth:`StreamChannel.call`; large uploads go through the SDK's file API first."""
        if isinstance(request, PutBlobs) and request.staged is None and len(payload) > STAGE_THRESHOLD:
            request = self._stage(request, payload)
            payload = b""
        return super().call(request, payload, timeout)

    def _stage(self, request: PutBlobs, payload: bytes) -> PutBlobs:
        if not self.alive:
            raise ChannelError(f"box {self.name}: {self.why_broken()}")
        folder = f"{STAGING_DIR}/{self.settings.run_id}-{secrets.token_hex(4)}"
        entries, offset = [], 0
        for spec in request.blobs:
            entries.append({"path": f"{folder}/{spec.name}", "data": payload[offset:offset + spec.size]})
            offset += spec.size
        try:
            self.settings.backoff.call_sdk(self.sdk, "uploading files",
                                           lambda: self.sandbox.files.write_files(entries, user="root"))
        except Exception as exc:
            # A failed upload leaves the box in an unknown state: treat it as lost (replaced, jobs retried).
            self._cause = f"upload failed: {describe(self.sdk, exc)}"
            self._fail_all(self._cause)
            raise ChannelError(f"box {self.name}: {self.why_broken()}") from None
        return PutBlobs(blobs=request.blobs, staged=folder)

    def _kill(self) -> None:
        if self._killed:
            return
        self._killed = True
        try:
            self.settings.backoff.call_sdk(self.sdk, "killing the sandbox", self.sandbox.kill)
        except Exception as exc:
            if _is(self.sdk, exc, "SandboxNotRunningException", "SandboxNotFoundException", "NotFoundException"):
                self._release_lease()  # gone already: E2B no longer counts it
            else:  # it lives until it expires, and so does its lease
                log.warning("e2b: cannot kill sandbox %s (%s); it expires within %d s", self.sandbox_id,
                            describe(self.sdk, exc), self.settings.timeout_s)
        else:
            self._release_lease()
        with _live_lock:
            _live.discard(self)

    def close(self) -> None:
        """Kill the sandbox (there is nothing to keep: every box starts empty)."""
        self._closed.set()
        super().close()
        self._kill()
        self._lines.close()
        self._reader.join(timeout=5)


# -- the backend ----------------------------------------------------------------------------------

class E2BBackend:
    """Judge in a pool of E2B sandboxes (``--backend e2b``). ``limiter`` holds the account's limits (default:
    this process's, from :meth:`limits`); the Ray backend passes its cluster-wide one."""

    name = "e2b"

    def __init__(self, template: str | None = None, slots_per_sandbox: int | None = None,
                 max_sandboxes: int | None = None, isolation: str | None = "bwrap",
                 sandbox_timeout_s: int = SANDBOX_TIMEOUT_S, keepalive_s: float = KEEPALIVE_S,
                 backoff: Backoff | None = None, sdk: ModuleType | None = None,
                 create_rate: float | None = None, limiter: Limiter | None = None,
                 lease_wait_s: float = LEASE_WAIT_S) -> None:
        self.template = template or DEFAULT_TEMPLATE
        self.slots_per_sandbox = max(1, slots_per_sandbox or env_number("IOI_EVAL_E2B_SLOTS", SLOTS_PER_SANDBOX))
        self.max_sandboxes = max(1, max_sandboxes or env_number("IOI_EVAL_E2B_MAX_SANDBOXES", DEFAULT_MAX_SANDBOXES))
        self.isolation = os.environ.get("IOI_EVAL_E2B_ISOLATION", isolation) or None
        self.sandbox_timeout_s = sandbox_timeout_s
        self.keepalive_s = keepalive_s
        self.backoff = backoff or Backoff()
        self.create_rate = create_rate or env_number("IOI_EVAL_E2B_CREATE_RATE", DEFAULT_CREATE_RATE,
                                                       kind=float, positive=True, unit="sandboxes per second")
        self.limiter = limiter
        self.lease_wait_s = lease_wait_s
        self._sdk = sdk

    def limits(self) -> tuple[int, float]:
        """The account's limits this backend keeps to: (live sandboxes, sandbox creations per second)."""
        return self.max_sandboxes, self.create_rate

    def sandboxes_for(self, workers: int) -> int:
        """Sandboxes one pool of ``workers`` run slots uses (the Ray backend sizes its actors by it)."""
        return self.plan(workers)[0]

    def plan(self, workers: int | None) -> tuple[int, int]:
        """(sandboxes, slots each) for ``workers`` parallel runs, within the concurrency limit."""
        slots = self.slots_per_sandbox
        wanted = max(1, workers or slots)
        return min(math.ceil(wanted / slots), self.max_sandboxes), slots

    def open(self, workers: int | None = None) -> RemoteBox:
        """Start the sandboxes (in parallel, retrying refusals) and greet their servers."""
        sdk = self._sdk or load_sdk()
        require_api_key()
        count, slots = self.plan(workers)
        limiter = self.limiter or LocalLimiter(self.max_sandboxes, self.create_rate)
        settings = SandboxSettings(self.template, slots, self.isolation, self.sandbox_timeout_s, self.keepalive_s,
                                   self.backoff, limiter=limiter, lease_wait_s=self.lease_wait_s)
        try:
            pool = ChannelPool(lambda i: E2BChannel(sdk, settings, f"e2b-{i}"), count, workers_per_box=slots,
                               isolation=self.isolation, min_live=1)
        except IoiEvalError as exc:
            raise E2BError(str(exc)) from None
        box = RemoteBox(pool, on_close=lambda: self._report(pool))
        live = sum(s.channel is not None for s in pool.slots)
        notes = []
        wanted = math.ceil(max(1, workers or slots) / slots)
        if wanted > count:
            notes.append(f"capped from {wanted} by the account's concurrency limit {self.max_sandboxes} "
                         "(IOI_EVAL_E2B_MAX_SANDBOXES)")
        if pool.start_errors:
            notes.append(f"{len(pool.start_errors)} could not start: {pool.start_errors[0]}")
            log.warning("e2b: %d of %d sandboxes could not start: %s", len(pool.start_errors), count,
                        pool.start_errors[0])
        extra = f" ({'; '.join(notes)})" if notes else ""
        box.isolation_note = f"e2b template {self.template}, {live} sandbox(es) x {slots} slots{extra}: " \
                             f"{box.isolation_note}"
        return box

    def _report(self, pool: ChannelPool) -> None:
        """Log what went wrong along the way (retries by cause, replaced sandboxes)."""
        if self.backoff.retries:
            done = ", ".join(f"{n} x {cause}" for cause, n in sorted(self.backoff.retries.items()))
            log.warning("e2b: retried %s", done)
        if pool.replacements:
            log.warning("e2b: replaced %d lost sandbox(es)", pool.replacements)
