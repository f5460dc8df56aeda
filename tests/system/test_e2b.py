"""The E2B backend at the SDK boundary (:mod:`tests.fixtures.e2b_fake`: the real in-box server behind a fake SDK).

Real batches are judged through the backend's code path (armoured stdout, chunked stdin, staged
uploads) and must match the local backend; rate limits, timeouts and lost sandboxes are injected
to check the backoff, the replacement and retry of jobs, and that a job that cannot be judged is
a sandbox error naming the cause. Sandboxes must be killed on close, on Ctrl-C and at exit.
"""

from __future__ import annotations

import io
import logging
import random
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ioi_box.protocol import Batch, Limits, Proc, RunJob
from ioi_box.textwire import Base64LineWriter
from ioi_box.wire import read_frame, write_frame

import ioi_eval.backends.e2b as e2b
from ioi_eval.backends import BACKENDS, get_backend
from ioi_eval.backends.e2b import Backoff, E2BBackend, LineReader
from ioi_eval.backends.e2b_template import build_template, e2b_dockerfile
from ioi_eval.backends.limiter import LocalLimiter
from ioi_eval.backends.remote import RemoteBox
from ioi_eval.errors import E2BError, EnvVarError
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.sources.loader import load_problem
from tests.fixtures.e2b_fake import (
    AuthenticationException,
    FakeE2B,
    RateLimitException,
    ServiceBusyException,
    TimeoutException,
)

CORRECT = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n"
REPO = Path(__file__).resolve().parents[2]


class Sleeps:
    """A fake clock for the backoff: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, s: float) -> None:
        self.waits.append(s)


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeE2B]:
    monkeypatch.setenv("E2B_API_KEY", "e2b_test_key")
    monkeypatch.setenv("IOI_EVAL_E2B_CREATE_RATE", "1000")  # E2B's pace is tested on its own
    monkeypatch.delenv("IOI_EVAL_E2B_ISOLATION", raising=False)
    fake = FakeE2B()
    yield fake
    e2b.kill_leftovers()
    fake.cleanup()


def _backend(sdk: FakeE2B, sleeps: Sleeps | None = None, **kw) -> E2BBackend:
    backoff = Backoff(attempts=kw.pop("attempts", 4), sleep=sleeps or Sleeps(), rand=lambda: 0.5)
    return E2BBackend(sdk=sdk, backoff=backoff, isolation=None, slots_per_sandbox=kw.pop("slots", 1), **kw)


def _judge(backend: E2BBackend, cache: Path, workers: int = 1) -> Judge:
    j = Judge(cache_dir=cache, workers=workers)
    j.backend = backend
    return j


def _sub(name: str, src: str, lang: str = "cpp") -> Submission:
    return Submission(name=name, language=lang, source=src.encode())


def _sleep_job(box: RemoteBox, seconds: float) -> RunJob:
    w = box.new_dir()
    return RunJob(procs=[Proc(argv=["/bin/sleep", str(seconds)], rw_binds={"/box": w},
                              limits=Limits(cpu_s=5, wall_s=10))])


# -- the armoured stream --------------------------------------------------------------------------

def test_armoured_frames_survive_any_split_and_skip_stray_lines() -> None:
    raw = io.BytesIO()
    w = Base64LineWriter(raw)
    frames = [(b'{"id":1}', bytes(range(256)) * 50), (b"{}", b""), (b'{"x":"\xc3\xa9"}', b"\xff\xfe\x00")]
    for h, p in frames:
        write_frame(w, h, p)
    text = "motd: welcome\n" + raw.getvalue().decode()  # a login shell's chatter first
    r = LineReader()
    rng = random.Random(1)
    i = 0
    while i < len(text):
        n = rng.randint(1, 300)
        r.feed(text[i:i + n])
        i += n
    r.close()
    assert [read_frame(r) for _ in frames] == frames
    assert read_frame(r) is None
    assert list(r.stray) == ["motd: welcome"]


def test_damaged_armour_breaks_the_stream() -> None:
    r = LineReader()
    r.feed("IB64:@@not base64@@\n")
    with pytest.raises(OSError, match="damaged"):
        r.read(10)


def test_server_base64_out_speaks_armoured_frames() -> None:
    """``python -m ioi_box.server --base64-out``: every reply is an armoured line."""
    from ioi_box.protocol import Hello, Reply, RequestFrame

    env_path = str(REPO / "sandbox")
    proc = subprocess.Popen([sys.executable, "-m", "ioi_box.server", "--base64-out", "--isolation", "rlimits"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    assert proc.stdin is not None
    write_frame(proc.stdin, RequestFrame(id=3, request=Hello(workers=1)).model_dump_json().encode())
    proc.stdin.close()
    out = proc.stdout.read().decode() if proc.stdout else ""
    assert proc.wait(timeout=60) == 0
    assert out.startswith("IB64:") and out.endswith("\n")
    r = LineReader()
    r.feed(out)
    r.close()
    reply = Reply.model_validate_json(read_frame(r)[0])
    assert reply.id == 3 and reply.info is not None and reply.info.workers == 1


# -- backoff and pool sizing ----------------------------------------------------------------------

def test_backoff_is_exponential_capped_and_jittered() -> None:
    b = Backoff(base_s=1, max_s=10, rand=lambda: 1.0)
    assert [b.delay(k) for k in range(6)] == [1, 2, 4, 8, 10, 10]
    b.rand = lambda: 0.0
    assert [b.delay(k) for k in range(3)] == [0.5, 1, 2]


def test_backoff_retries_only_what_it_should() -> None:
    sleeps = Sleeps()
    b = Backoff(attempts=3, sleep=sleeps, rand=lambda: 0.0)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RateLimitException("429")
        return "ok"

    assert b.call("x", flaky, lambda e: isinstance(e, RateLimitException), str) == "ok"
    assert sleeps.waits == [0.5, 1.0] and b.retries == {"429": 2}
    with pytest.raises(RateLimitException):
        b.call("x", lambda: (_ for _ in ()).throw(RateLimitException("again")), lambda e: True, str)
    with pytest.raises(ValueError):  # not retryable: raised at once
        b.call("x", lambda: (_ for _ in ()).throw(ValueError("no")), lambda e: False, str)
    assert len(sleeps.waits) == 4


def test_pool_size_follows_workers_within_the_concurrency_limit() -> None:
    b = E2BBackend(sdk=FakeE2B(), slots_per_sandbox=4, max_sandboxes=5)
    assert b.plan(None) == (1, 4)
    assert b.plan(1) == (1, 4)
    assert b.plan(9) == (3, 4)
    assert b.plan(100) == (5, 4)


def test_bad_settings_are_clear_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOI_EVAL_E2B_MAX_SANDBOXES", "lots")
    with pytest.raises(EnvVarError, match=r"\$IOI_EVAL_E2B_MAX_SANDBOXES must be a whole number, not 'lots'"):
        E2BBackend()
    monkeypatch.setenv("IOI_EVAL_E2B_MAX_SANDBOXES", "3")
    assert E2BBackend(slots_per_sandbox=2).plan(100) == (3, 2)


def test_backend_is_registered() -> None:
    assert BACKENDS["e2b"] is E2BBackend
    assert isinstance(get_backend("e2b"), E2BBackend)


# -- judging through the fake SDK -----------------------------------------------------------------

def test_judging_on_e2b_equals_local(sdk: FakeE2B, sum_package: Path, tmp_path: Path, judge) -> None:
    prob = load_problem(sum_package)
    subs = {"ok.cpp": CORRECT, "wa.cpp": CORRECT.replace("a+b", "a-b"), "ce.cpp": "int main( {",
            "py.py": "print(sum(map(int, input().split())))\n"}
    with _judge(_backend(sdk), tmp_path / "cache", workers=2) as rj:
        for name, src in subs.items():
            sub = _sub(name, src, "python" if name.endswith(".py") else "cpp")
            remote, local = rj.judge(prob, sub, skip=False), judge.judge(prob, sub, skip=False)
            assert [(t.name, t.verdict, t.score) for t in remote.tests] == \
                   [(t.name, t.verdict, t.score) for t in local.tests], name
            assert remote.score == local.score
        box = rj.box
        assert isinstance(box, RemoteBox) and box.workers == 2 and len(box.pool.slots) == 2
        assert "e2b template ioi-eval-judge, 2 sandbox(es) x 1 slots" in box.isolation_note
    creates = sdk.ops("create")
    assert len(creates) == 2
    assert all(c[2]["template"] == "ioi-eval-judge" and c[2]["allow_internet_access"] is False for c in creates)
    run = sdk.ops("run")[0][2]
    assert run["user"] == "root" and run["timeout"] == 0 and "--base64-out" in run["cmd"]
    assert run["envs"]["PYTHONPATH"] == e2b.BOX_PYTHONPATH
    assert {c[1] for c in sdk.ops("kill")} == {s.sandbox_id for s in sdk.sandboxes}  # all killed at close
    assert not sdk.live


def test_large_uploads_go_through_the_file_api_and_stdin_is_chunked(sdk: FakeE2B, monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    monkeypatch.setattr(e2b, "STDIN_CHUNK", 4096)
    monkeypatch.setattr(e2b, "STAGE_THRESHOLD", 100_000)
    big = bytes(random.Random(2).randbytes(300_000))
    mid = b"y" * 20_000  # above a stdin chunk, below the staging threshold
    with _backend(sdk).open(1) as box:
        for data in (big, mid):
            blob = box.put_bytes(data)
            w = box.new_dir()
            job = RunJob(procs=[Proc(argv=["/usr/bin/wc", "-c"], stdin=blob, stdout=f"{w}/out",
                                     limits=Limits(cpu_s=5, wall_s=10))], outputs=[f"{w}/out"])
            res = box.execute(Batch(jobs=[job])).results[0]
            assert res.error is None, res.error
            assert box.read_bytes(f"{w}/out").split()[0] == str(len(data)).encode()
        staged = sdk.ops("write_files")
        assert len(staged) == 1 and staged[0][2]["size"] == len(big) and staged[0][2]["user"] == "root"
        assert all(c[2]["size"] <= 4096 for c in sdk.ops("send_stdin"))
        assert not any(p.exists() or p.parent.exists() for s in sdk.sandboxes for p in s.written)  # moved in


def test_rate_limited_creation_is_retried_with_backoff(sdk: FakeE2B) -> None:
    sdk.create_fault = lambda n: RateLimitException("429 too many requests") if n < 2 else None
    sleeps = Sleeps()
    backend = _backend(sdk, sleeps)
    with backend.open(1) as box:
        assert box.execute(Batch(jobs=[_sleep_job(box, 0)])).results[0].error is None
    assert len(sdk.ops("create")) == 3 and sleeps.waits == [0.75, 1.5]
    assert backend.backoff.retries == {"rate limited by E2B": 2}


def test_creation_failing_for_good_is_a_clear_error(sdk: FakeE2B) -> None:
    sdk.create_fault = lambda n: ServiceBusyException("503 no capacity")
    with pytest.raises(E2BError, match=r"after 4 attempt\(s\): E2B is busy"):
        _backend(sdk).open(1)
    sdk.create_fault = None
    n = len(sdk.ops("create"))
    with pytest.raises(E2BError, match=r"no template 'nope'.*sandbox build --e2b"):
        _backend(sdk, template="nope").open(1)
    assert len(sdk.ops("create")) == n + 1  # not retried
    sdk.create_fault = lambda n: AuthenticationException("401: Unauthorized")
    with pytest.raises(E2BError, match=r"rejected the API key \(\$E2B_API_KEY\)"):
        _backend(sdk).open(1)
    assert not sdk.live


def test_concurrency_limit_leaves_a_smaller_pool(sdk: FakeE2B, caplog: pytest.LogCaptureFixture) -> None:
    sdk.max_concurrent = 2
    with caplog.at_level(logging.WARNING, "ioi_eval.e2b"), _backend(sdk, attempts=2).open(3) as box:
        assert box.workers == 2
        assert "2 sandbox(es)" in box.isolation_note and "1 could not start" in box.isolation_note
        res = box.execute(Batch(jobs=[_sleep_job(box, 0) for _ in range(4)])).results
        assert all(r.error is None for r in res)
    assert "could not start" in caplog.text
    assert not sdk.live


def test_lost_sandbox_is_replaced_and_its_job_retried(sdk: FakeE2B) -> None:
    def lose_on_first_execute(sbx, data: bytes):
        if sbx.sandbox_id == "sbx-1" and b'"op":"execute"' in data:
            sbx.lose()
        return None

    sdk.stdin_fault = lose_on_first_execute
    with _backend(sdk).open(1) as box:
        res = box.execute(Batch(jobs=[_sleep_job(box, 0.2)])).results[0]
        assert res.error is None and res.procs[0].status.value == "OK", res
        assert box.pool.replacements == 1
    assert [s.sandbox_id for s in sdk.sandboxes] == ["sbx-1", "sbx-2"]
    assert not sdk.live


def test_job_that_cannot_be_judged_is_a_sandbox_error_naming_the_cause(sdk: FakeE2B, sum_package: Path,
                                                                       tmp_path: Path) -> None:
    def lose_on_execute(sbx, data: bytes):
        if b'"op":"execute"' in data and b'"stdin":"blobs/' in data:  # the tests (stdin: an input), not the compile
            sbx.lose()
        return None

    sdk.stdin_fault = lose_on_execute
    with _judge(_backend(sdk), tmp_path / "cache") as j:
        report = j.judge(load_problem(sum_package), _sub("ok.cpp", CORRECT), skip=False)
    assert report.tests and all(t.verdict == Verdict.SE for t in report.tests)
    assert report.score == 0
    msg = report.tests[0].message
    assert "failed twice" in msg and "the sandbox is gone" in msg and "SandboxNotRunningException" in msg


def test_timeout_while_sending_breaks_the_channel_and_retries(sdk: FakeE2B) -> None:
    fired = []

    def timeout_once(sbx, data: bytes):
        if b'"op":"execute"' in data and not fired:
            fired.append(1)
            return TimeoutException("deadline exceeded")
        return None

    sdk.stdin_fault = timeout_once
    with _backend(sdk).open(1) as box:
        res = box.execute(Batch(jobs=[_sleep_job(box, 0)])).results[0]
        assert res.error is None and box.pool.replacements == 1


def test_rate_limited_stdin_is_resent(sdk: FakeE2B) -> None:
    count = []

    def limit_twice(sbx, data: bytes):
        if len(count) < 2:
            count.append(1)
            return RateLimitException("429")
        return None

    sdk.on_created = lambda sbx: None
    with _backend(sdk).open(1) as box:
        sdk.stdin_fault = limit_twice
        res = box.execute(Batch(jobs=[_sleep_job(box, 0)])).results[0]
        assert res.error is None and box.pool.replacements == 0


def test_keepalive_renews_the_sandbox_timeout(sdk: FakeE2B) -> None:
    import time

    with _backend(sdk, keepalive_s=0.05, sandbox_timeout_s=321).open(1):
        deadline = time.monotonic() + 10
        while not sdk.ops("set_timeout") and time.monotonic() < deadline:
            time.sleep(0.05)
    assert sdk.ops("set_timeout")[0][2]["timeout"] == 321
    assert sdk.ops("create")[0][2]["timeout"] == 321


def test_ctrl_c_kills_the_sandboxes(sdk: FakeE2B, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), _judge(_backend(sdk), tmp_path / "cache", workers=2) as j:
        assert j.box.workers == 2
        raise KeyboardInterrupt
    assert len(sdk.sandboxes) == 2 and all(s.killed for s in sdk.sandboxes)


def test_unclosed_sandboxes_are_killed_at_exit(sdk: FakeE2B) -> None:
    box = _backend(sdk).open(2)
    assert len(sdk.live) == 2
    e2b.kill_leftovers()  # what atexit runs
    assert not sdk.live and all(s.killed for s in sdk.sandboxes)
    box.close()  # closing again is harmless


def test_failing_kill_is_reported_not_raised(sdk: FakeE2B, caplog: pytest.LogCaptureFixture) -> None:
    sdk.kill_fault = lambda sbx: TimeoutException("kill timed out")
    with caplog.at_level(logging.WARNING, "ioi_eval.e2b"):
        _backend(sdk).open(1).close()
    assert "cannot kill sandbox sbx-1" in caplog.text and "expires within" in caplog.text


# -- clear errors ---------------------------------------------------------------------------------

def test_missing_sdk_or_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "e2b", None)  # import e2b fails
    with pytest.raises(E2BError, match=r"e2b package is not installed.*ioi-eval\[e2b\]"):
        E2BBackend().open(1)
    monkeypatch.delenv("E2B_API_KEY", raising=False)
    with pytest.raises(E2BError, match="E2B_API_KEY is not set"):
        E2BBackend(sdk=FakeE2B()).open(1)


def test_cli_without_key_exits_2_with_the_reason(sum_package: Path, tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if k != "E2B_API_KEY"}
    sol = tmp_path / "ok.cpp"
    sol.write_text(CORRECT)
    for argv in (["judge", "--problem", str(sum_package), "--solution", str(sol), "--backend", "e2b"],
                 ["sandbox", "build", "--e2b"]):
        res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", *argv], capture_output=True, text=True,
                             env=env, timeout=120)
        assert res.returncode == 2, (argv, res.stdout, res.stderr)
        assert "E2B_API_KEY is not set" in res.stdout + res.stderr, argv


# -- the template ---------------------------------------------------------------------------------

def test_dockerfile_for_e2b_drops_the_container_only_tail() -> None:
    text = (REPO / "sandbox" / "Dockerfile").read_text()
    out = e2b_dockerfile(text)
    kept = [ln for ln in out.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert not any(ln.split()[0] in ("USER", "ENTRYPOINT", "CMD") for ln in kept)
    assert [ln for ln in kept if ln.startswith(("COPY", "RUN"))] == \
           [ln for ln in text.splitlines() if ln.startswith(("COPY", "RUN")) and "useradd" not in ln]
    assert "FROM debian:bookworm-slim" in out and "useradd" not in "\n".join(kept)
    with pytest.raises(E2BError, match="multi-line"):
        e2b_dockerfile('FROM x\nCMD ["a", \\\n "b"]\n')


def test_real_sdk_parses_the_e2b_dockerfile(tmp_path: Path) -> None:
    """The SDK's own Dockerfile converter (offline): base image resolved, steps kept, no start command."""
    sdk = pytest.importorskip("e2b")
    import json

    from ioi_eval.backends.image import DOCKERFILE, build_context

    build_context(tmp_path, lambda _m: None)
    template = sdk.Template(file_context_path=str(tmp_path)).from_dockerfile(e2b_dockerfile(DOCKERFILE.read_text()))
    spec = json.loads(sdk.Template.to_json(template))
    assert spec["fromImage"] == "debian:bookworm-slim"
    steps = [(s["type"], s["args"]) for s in spec["steps"]]
    assert [a[:2] for t, a in steps if t == "COPY"] == [["wheels", "/tmp/wheels"], ["cpp", "/opt/ioi-eval/cpp"],
                                                      ["ioi_box", "/opt/ioi-eval/ioi_box"]]
    assert sum(t == "RUN" for t, _ in steps) == 4
    assert "startCmd" not in spec or not spec["startCmd"]


def test_template_build_calls_the_sdk_builder(sdk: FakeE2B) -> None:
    from tests.fixtures.e2b_fake import FakeTemplate

    FakeTemplate.built.clear()
    logs: list[str] = []
    assert build_template("my-judge", cpu_count=8, memory_mb=16384, log=logs.append, sdk=sdk) == "my-judge (tpl-123)"
    (b,) = FakeTemplate.built
    assert b["name"] == "my-judge" and b["cpu_count"] == 8 and b["memory_mb"] == 16384 and b["skip_cache"] is False
    assert {"Dockerfile", "ioi_box", "cpp", "wheels"} <= set(b["context"])
    assert "ENTRYPOINT" not in b["dockerfile"].replace("# (dropped for E2B) ENTRYPOINT", "")
    assert any("step 1/9" in m for m in logs)


def test_fake_sdk_holds_calls_to_the_real_signatures(sdk: FakeE2B) -> None:
    """With the e2b package installed, every fake call must fit the real SDK (so the fake cannot drift)."""
    pytest.importorskip("e2b")
    with pytest.raises(TypeError):
        sdk.Sandbox.create(templat="ioi-eval-judge")
    sbx = sdk.Sandbox.create(template="ioi-eval-judge")
    with pytest.raises(TypeError):
        sbx.commands.run("true", background=True, stdin=True, on_exit=print)
    with pytest.raises(TypeError):
        sbx.files.write_files([], owner="root")
    sbx.kill()


# -- the limits: a lease per sandbox, a turn per creation (the limiter the Ray backend shares) -----------------

class RecordingLimiter(LocalLimiter):
    """A real :class:`LocalLimiter` whose calls go into the fake SDK's call log, in order with the SDK's."""

    def __init__(self, sdk: FakeE2B, cap: int) -> None:
        super().__init__(cap, rate=1000)
        self.sdk = sdk

    def acquire(self, owner: str, ttl_s: float, wait_s: float) -> str:
        lease = super().acquire(owner, ttl_s, wait_s)
        self.sdk.record("lease", None, lease=lease, ttl_s=ttl_s)
        return lease

    def renew(self, lease: str, ttl_s: float) -> bool:
        self.sdk.record("renew", None, lease=lease, ttl_s=ttl_s)
        return super().renew(lease, ttl_s)

    def release(self, lease: str) -> None:
        self.sdk.record("release", None, lease=lease)
        super().release(lease)

    def pace(self) -> None:
        self.sdk.record("pace", None)
        super().pace()

    def held(self) -> int:
        with self._cond:
            return sum(self.leases.owners(self._clock()).values())


def _limited(sdk: FakeE2B, cap: int, **kw) -> tuple[E2BBackend, RecordingLimiter]:
    lim = RecordingLimiter(sdk, cap)
    return _backend(sdk, limiter=lim, max_sandboxes=kw.pop("max_sandboxes", cap), **kw), lim


def test_each_sandbox_holds_a_lease_from_before_its_creation_until_it_is_killed(sdk: FakeE2B) -> None:
    backend, lim = _limited(sdk, 3)
    with backend.open(3) as box:
        assert box.workers == 3 and lim.held() == 3
    assert lim.held() == 0
    log = [(op, sid, kw) for op, sid, kw in sdk.calls if op in ("lease", "pace", "create", "kill", "release")]
    held = 0
    for i, (op, _sid, _kw) in enumerate(log):
        held += {"lease": 1, "release": -1}.get(op, 0)
        assert 0 <= held <= 3
        if op == "create":
            before = [o for o, _, _ in log[:i]]  # (the sandboxes start in parallel: calls interleave)
            assert before.count("pace") > before.count("create")  # every creation waits for its turn first
            assert before.count("lease") > before.count("create")  # ...and holds a lease
    kills = [i for i, c in enumerate(log) if c[0] == "kill"]
    releases = [i for i, c in enumerate(log) if c[0] == "release"]
    assert len(kills) == len(releases) == 3 and all(r > k for k, r in zip(kills, releases, strict=True))
    assert {kw["ttl_s"] for op, _, kw in log if op == "lease"} == {e2b.SANDBOX_TIMEOUT_S + e2b.LEASE_MARGIN_S}


def test_every_creation_attempt_takes_a_turn(sdk: FakeE2B) -> None:
    sdk.create_fault = lambda n: RateLimitException("429 too many requests") if n < 2 else None
    backend, _ = _limited(sdk, 1)
    with backend.open(1):
        pass
    assert len(sdk.ops("pace")) == len(sdk.ops("create")) == 3 and len(sdk.ops("lease")) == 1


def test_sandboxes_wait_for_leases_another_holder_has(sdk: FakeE2B) -> None:
    lim = RecordingLimiter(sdk, 3)
    others = [lim.acquire("another driver", 60, 1) for _ in range(2)]
    backend = _backend(sdk, limiter=lim, max_sandboxes=3, lease_wait_s=0.3)
    with backend.open(3) as box:  # one lease is free: one sandbox; the other two cannot start
        assert box.workers == 1 and "2 could not start" in box.isolation_note
        assert "no E2B sandbox came free within 0.3 s" in box.isolation_note
        assert len(sdk.ops("create")) == 1
    for lease in others:
        lim.release(lease)
    assert lim.held() == 0


def test_a_creation_that_made_no_sandbox_gives_its_lease_back(sdk: FakeE2B) -> None:
    sdk.create_fault = lambda n: AuthenticationException("401: Unauthorized")
    backend, lim = _limited(sdk, 2)
    with pytest.raises(E2BError, match="rejected the API key"):
        backend.open(1)
    assert lim.held() == 0 and len(sdk.ops("release")) == 1


def test_a_creation_that_may_have_made_a_sandbox_keeps_its_lease_until_it_expires(sdk: FakeE2B) -> None:
    sdk.create_fault = lambda n: TimeoutException("create timed out")
    backend, lim = _limited(sdk, 2, attempts=1)
    with pytest.raises(E2BError, match="E2B timed out"):
        backend.open(1)
    assert lim.held() == 1 and not sdk.ops("release")  # E2B may run it: the lease runs out with it


def test_an_unkillable_sandbox_keeps_its_lease_a_lost_one_does_not(sdk: FakeE2B) -> None:
    sdk.kill_fault = lambda sbx: TimeoutException("kill timed out") if sbx.sandbox_id == "sbx-1" else None
    backend, lim = _limited(sdk, 2, attempts=1)
    with backend.open(2) as box:
        sdk.sandboxes[1].lose()
        assert box.workers == 2
    assert lim.held() == 1  # sbx-1 could not be killed: it still counts until E2B expires it
    assert len(sdk.ops("release")) == 1


def test_keepalive_renews_the_lease_with_the_sandbox(sdk: FakeE2B) -> None:
    import time

    backend, _ = _limited(sdk, 1, keepalive_s=0.05, sandbox_timeout_s=321)
    with backend.open(1):
        deadline = time.monotonic() + 10
        while not sdk.ops("renew") and time.monotonic() < deadline:
            time.sleep(0.05)
    renew = sdk.ops("renew")[0][2]
    assert renew["ttl_s"] == 321 + e2b.LEASE_MARGIN_S and renew["lease"] == sdk.ops("lease")[0][2]["lease"]
    calls = [c[0] for c in sdk.calls]
    assert calls.index("set_timeout") < calls.index("renew")


def test_create_rate_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IOI_EVAL_E2B_CREATE_RATE", "5")
    assert E2BBackend().limits() == (e2b.DEFAULT_MAX_SANDBOXES, 5.0)
    for bad in ("fast", "0", "-1"):
        monkeypatch.setenv("IOI_EVAL_E2B_CREATE_RATE", bad)
        with pytest.raises(EnvVarError, match="IOI_EVAL_E2B_CREATE_RATE must be a positive number of sandboxes per "
                                              f"second, not '{bad}'"):
            E2BBackend()
