"""The remote protocol without any container: ``python -m ioi_box.server`` as a local child process.

A :class:`RemoteBox` over :class:`ProcessChannel`s judges exactly like the local backend, spreads
jobs over its boxes, uploads each blob once per box, and replaces a box that dies mid-job,
retrying its job once (a second death is a sandbox error, never a silent zero).
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from ioi_box.protocol import (
    PROTOCOL_VERSION,
    Batch,
    BoxInfo,
    Limits,
    Proc,
    PutBlobs,
    RemovePaths,
    Reply,
    RequestFrame,
    RunJob,
)
from ioi_box.wire import WireError, read_frame, write_frame

from ioi_eval.backends.remote import ChannelPool, ProcessChannel, RemoteBox
from ioi_eval.errors import BoxLostError, BoxRequestError, JudgeError
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.submission import Submission
from ioi_eval.sources.loader import load_problem

SERVER = [sys.executable, "-m", "ioi_box.server"]
CORRECT = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n"
SLOW = "#include <cstdio>\n#include <unistd.h>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);" \
       "sleep(1);printf(\"%lld\\n\",a+b);}\n"


class LocalServers:
    """A backend whose boxes are local ``ioi_box.server`` processes (what Docker does, minus Docker)."""

    name = "local-servers"

    def __init__(self, boxes: int = 2, workers_per_box: int = 1) -> None:
        self.boxes = boxes
        self.workers_per_box = workers_per_box
        self.channels: list[ProcessChannel] = []

    def factory(self, i: int) -> ProcessChannel:
        ch = ProcessChannel(SERVER, name=f"local-{i}")
        self.channels.append(ch)
        return ch

    def open(self, workers: int | None = None) -> RemoteBox:
        return RemoteBox(ChannelPool(self.factory, self.boxes, self.workers_per_box))


@pytest.fixture
def servers() -> LocalServers:
    return LocalServers()


def _remote_judge(backend: LocalServers, cache: Path) -> Judge:
    j = Judge(cache_dir=cache)
    j.backend = backend  # the judge only needs .open(workers)
    return j


def test_frames_round_trip_and_reject_garbage() -> None:
    buf = io.BytesIO()
    write_frame(buf, b'{"a":1}', b"\x00payload")
    write_frame(buf, b"{}")
    buf.seek(0)
    assert read_frame(buf) == (b'{"a":1}', b"\x00payload")
    assert read_frame(buf) == (b"{}", b"")
    assert read_frame(buf) is None
    with pytest.raises(WireError, match="lost sync"):
        read_frame(io.BytesIO(b"hello world, not a frame"))
    with pytest.raises(WireError, match="ended inside"):
        read_frame(io.BytesIO(buf.getvalue()[:12]))


def test_judging_through_servers_equals_local(servers: LocalServers, sum_package: Path, tmp_path: Path,
                                              judge) -> None:
    prob = load_problem(sum_package)
    subs = {"ok": CORRECT, "wa": CORRECT.replace("a+b", "a-b"), "ce": "int main( {",
            "py": "print(sum(map(int, input().split())))\n"}
    with _remote_judge(servers, tmp_path / "cache") as rj:
        for name, src in subs.items():
            lang = "python" if name == "py" else "cpp"
            sub = Submission(name=f"{name}.{'py' if lang == 'python' else 'cpp'}", language=lang, source=src.encode())
            remote, local = rj.judge(prob, sub, skip=False), judge.judge(prob, sub, skip=False)
            assert [(t.name, t.verdict, t.score) for t in remote.tests] == \
                   [(t.name, t.verdict, t.score) for t in local.tests], name
            assert remote.score == local.score
        box = rj.box
        assert isinstance(box, RemoteBox) and box.workers == 2
        # every test ran somewhere, and the blobs went only where needed, once each
        assert all(s.blobs for s in box.pool.slots)


def test_request_errors_are_clear(servers: LocalServers) -> None:
    with servers.open() as box:
        with pytest.raises(BoxRequestError, match="content does not match"):
            box.pool.channel(box.pool.slots[0]).call(PutBlobs(blobs=[{"name": "00" * 32, "size": 3}]), b"abc")
        w = box.new_dir()
        with pytest.raises(JudgeError, match=r"gone|never used"):
            box.read_bytes(f"{w}/nothing")


def _sleep_job(box: RemoteBox, seconds: float) -> RunJob:
    w = box.new_dir()
    return RunJob(procs=[Proc(argv=["/bin/sleep", str(seconds)], rw_binds={"/box": w},
                              limits=Limits(cpu_s=5, wall_s=10))])


def _kill_server_soon(ch: ProcessChannel, delay: float) -> threading.Thread:
    def kill() -> None:
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(ch.proc.pid, signal.SIGKILL)

    t = threading.Thread(target=kill)
    t.start()
    return t


def test_dead_box_is_replaced_and_job_retried(servers: LocalServers) -> None:
    servers.boxes = 1
    with servers.open() as box:
        first = servers.channels[0]
        killer = _kill_server_soon(first, 0.5)
        res = box.execute(Batch(jobs=[_sleep_job(box, 1.5)])).results[0]
        killer.join()
        assert res.error is None and res.procs[0].status.value == "OK", res
        assert box.pool.replacements == 1 and len(servers.channels) == 2
        assert first.proc.poll() is not None and servers.channels[1].proc.poll() is None


def test_box_dying_twice_is_a_sandbox_error(servers: LocalServers) -> None:
    servers.boxes = 1
    with servers.open() as box:
        orig = servers.factory

        def factory(i: int) -> ProcessChannel:
            ch = orig(i)
            _kill_server_soon(ch, 0.5)
            return ch

        _kill_server_soon(servers.channels[0], 0.5)
        box.pool.factory = factory
        res = box.execute(Batch(jobs=[_sleep_job(box, 2)])).results[0]
        assert res.error and "failed twice" in res.error


def test_a_folder_lost_with_its_box_is_never_found_empty(servers: LocalServers) -> None:
    """A step that needs what an earlier step left in a box that died since (a checker reading the program's
    output) raises BoxLostError instead of running on a fresh, empty box (a WA that was never the program's)."""
    servers.boxes = 1
    with servers.open() as box:
        w = box.new_dir()
        job = RunJob(procs=[Proc(argv=["/bin/sh", "-c", "echo 3 > /box/out"], rw_binds={"/box": w},
                                 limits=Limits(cpu_s=5, wall_s=10))])
        assert box.execute(Batch(jobs=[job])).results[0].procs[0].status.value == "OK"
        assert box.read_bytes(f"{w}/out") == b"3\n"
        os.killpg(servers.channels[0].proc.pid, signal.SIGKILL)
        # A job that makes its own folder finds the box dead and is retried on a fresh one.
        assert box.execute(Batch(jobs=[_sleep_job(box, 0.1)])).results[0].procs[0].status.value == "OK"
        assert box.pool.replacements == 1
        with pytest.raises(BoxLostError, match="lost after an earlier step"):
            box.read_bytes(f"{w}/out")
        with pytest.raises(BoxLostError):
            box.execute(Batch(jobs=[job]))
        box.remove([w])  # forgotten with it
        # The box dies while a job that uses an earlier step's folder runs: not retried on an empty folder.
        w2 = box.new_dir()
        first = RunJob(procs=[Proc(argv=["/bin/sh", "-c", "echo 3 > /box/out"], rw_binds={"/box": w2},
                                   limits=Limits(cpu_s=5, wall_s=10))])
        assert box.execute(Batch(jobs=[first])).results[0].procs[0].status.value == "OK"
        second = RunJob(procs=[Proc(argv=["/bin/sh", "-c", "sleep 1.5; cat /box/out"], rw_binds={"/box": w2},
                                    limits=Limits(cpu_s=5, wall_s=10))])
        killer = _kill_server_soon(servers.channels[-1], 0.5)
        with pytest.raises(BoxLostError):
            box.execute(Batch(jobs=[second]))
        killer.join()


def test_hung_box_is_replaced(servers: LocalServers, monkeypatch: pytest.MonkeyPatch) -> None:
    import ioi_eval.backends.remote as remote

    servers.boxes = 1
    monkeypatch.setattr(remote, "EXECUTE_MARGIN_S", 1.0)
    with servers.open() as box:
        os.killpg(servers.channels[0].proc.pid, signal.SIGSTOP)  # hangs: alive but silent
        job = RunJob(procs=[Proc(argv=["/bin/true"], limits=Limits(cpu_s=1, wall_s=1))])
        res = box.execute(Batch(jobs=[job])).results[0]
        assert res.error is None and res.procs[0].status.value == "OK"
        assert box.pool.replacements == 1


def test_server_rejects_requests_before_hello() -> None:
    import subprocess

    proc = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    write_frame(proc.stdin, RequestFrame(id=7, request=RemovePaths(paths=[])).model_dump_json().encode())
    reply = Reply.model_validate_json(read_frame(proc.stdout)[0])
    assert reply.id == 7 and "hello" in (reply.error or "")
    proc.stdin.close()
    assert proc.wait(timeout=30) == 0


class _OtherProtocolChannel:
    """A box that answers hello with another protocol version (a stale image or template)."""

    name = "stale"

    def __init__(self) -> None:
        self.closed = False

    def call(self, request, payload: bytes = b"", timeout: float | None = None) -> tuple[Reply, bytes]:
        info = BoxInfo(protocol=PROTOCOL_VERSION + 1, workers=1, isolation="rlimits", isolation_note="")
        return Reply(id=1, info=info), b""

    def close(self) -> None:
        self.closed = True


def test_box_of_another_protocol_version_is_refused() -> None:
    channels: list[_OtherProtocolChannel] = []

    def factory(i: int) -> _OtherProtocolChannel:
        channels.append(_OtherProtocolChannel())
        return channels[-1]

    with pytest.raises(JudgeError, match=f"speaks protocol {PROTOCOL_VERSION + 1}.*rebuild"):
        ChannelPool(factory, 1)
    assert channels and all(ch.closed for ch in channels)
