"""``python3 -m ioi_box.server``: serve one :class:`~ioi_box.executor.Executor` over stdin/stdout.

This is the in-box end of the remote protocol (:mod:`ioi_box.protocol`, framed by
:mod:`ioi_box.wire`). A host starts it inside a container (``docker run -i``) or a cloud VM and
talks to it through the process's standard streams. The first request must be a ``hello``, which
starts the executor (so a host may prepare the box, e.g. delegate cgroups, before that); the
others run concurrently on a thread pool and are answered as they finish, each reply carrying its
request's id. The server exits when its input ends. ``--base64-out`` armours the output for
transports that carry stdout as text (:mod:`ioi_box.textwire`).

Stray output must never reach the stream: the protocol's stdout is moved to a private descriptor
and fd 1 becomes a copy of stderr (fd 0 becomes /dev/null).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from .executor import Executor
from .isolation import REQUIREMENTS, detect
from .protocol import (
    PROTOCOL_VERSION,
    BoxInfo,
    Execute,
    Hello,
    Promote,
    PutBlobs,
    ReadFile,
    RemovePaths,
    Reply,
    RequestFrame,
)
from .textwire import Base64LineWriter
from .wire import WireError, read_frame, write_frame

PCH_DIRS = ("/usr/lib/ioi-eval/pch",)


def _first_line(argv: list[str]) -> str:
    try:
        # A version query starts nothing that could outlive us: a plain run (run_tied's supervisor costs ~15 ms).
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.splitlines()[0] if out else ""


def toolchain() -> tuple[dict[str, str], dict[str, str]]:
    """Versions and paths of the box's compilers, as the host's compile cache keys need them."""
    tools, compilers = {}, {}
    gxx = shutil.which("g++")
    if gxx:
        compilers["cpp"] = str(Path(gxx).resolve())
        tools["cpp"] = _first_line([compilers["cpp"], "--version"])
    if Path("/usr/bin/python3").exists():
        tools["python"] = _first_line(["/usr/bin/python3", "--version"])
    return tools, compilers


def pch_include() -> str | None:
    """A folder with a precompiled ``bits/stdc++.h.gch`` under /usr (so runs see it), if the box has one."""
    for d in (os.environ.get("IOI_BOX_PCH_DIR"), *PCH_DIRS):
        if d and Path(d, "bits", "stdc++.h.gch").is_file():
            return d
    return None


class Server:
    """Answers requests of one host on one stream."""

    def __init__(self, root: Path | None = None, workers: int | None = None, isolation: str | None = None) -> None:
        self.root = root
        self.workers = workers
        self.isolation = isolation
        self.executor: Executor | None = None
        self._write_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    # -- requests ------------------------------------------------------------------------------
    def hello(self, req: Hello) -> BoxInfo:
        """Start the executor (once); later hellos only describe it."""
        if self.executor is None:
            iso, note = detect(req.isolation or self.isolation)
            self.executor = Executor(root=self.root, isolation=iso, workers=req.workers or self.workers)
            self.executor.isolation_note = note
            self._pool = ThreadPoolExecutor(max_workers=self.executor.workers + 4, thread_name_prefix="ioi-srv")
        ex = self.executor
        tools, compilers = toolchain()
        return BoxInfo(protocol=PROTOCOL_VERSION, workers=ex.workers, isolation=ex.isolation.name,
                       isolation_note=ex.isolation_note, cgroups=dict(ex.cgroups), tools=tools, compilers=compilers,
                       pch_include=pch_include())

    def dispatch(self, frame: RequestFrame, payload: bytes) -> tuple[Reply, bytes]:
        """Run one request (not hello) against the executor."""
        ex = self.executor
        req = frame.request
        if ex is None:
            return Reply(id=frame.id, error="the first request must be hello"), b""
        if isinstance(req, PutBlobs):
            offset = 0
            for spec in req.blobs:
                if req.staged is not None:  # uploaded out of band into a staging folder
                    staged = Path(req.staged, os.path.basename(spec.name))
                    data = staged.read_bytes()
                    staged.unlink()
                else:
                    data = payload[offset:offset + spec.size]
                    offset += spec.size
                digest, _, suffix = spec.name.partition(".")
                if len(data) != spec.size or hashlib.sha256(data).hexdigest() != digest or suffix not in ("", "x"):
                    return Reply(id=frame.id, error=f"blob {spec.name}: content does not match its name"), b""
                ex.put_bytes(data, executable=suffix == "x")
            if req.staged is not None:
                with contextlib.suppress(OSError):
                    Path(req.staged).rmdir()
            return Reply(id=frame.id), b""
        if isinstance(req, Promote):
            return Reply(id=frame.id, blob=ex.promote(req.path, req.executable)), b""
        if isinstance(req, ReadFile):
            return Reply(id=frame.id), ex.read_bytes(req.path, req.limit)
        if isinstance(req, RemovePaths):
            ex.remove(req.paths)
            return Reply(id=frame.id), b""
        if isinstance(req, Execute):
            for d in req.dirs:
                ex.make_dir(d)
            return Reply(id=frame.id, result=ex.execute(req.batch)), b""
        return Reply(id=frame.id, error=f"unexpected request {req.op!r}"), b""

    # -- the stream ----------------------------------------------------------------------------
    def _answer(self, out: BinaryIO, reply: Reply, payload: bytes = b"") -> None:
        data = reply.model_dump_json(exclude_none=True).encode()
        with self._write_lock:
            write_frame(out, data, payload)

    def _handle(self, out: BinaryIO, frame: RequestFrame, payload: bytes) -> None:
        try:
            reply, data = self.dispatch(frame, payload)
        except Exception as exc:  # the host reports it; the server keeps serving
            reply, data = Reply(id=frame.id, error=f"{type(exc).__name__}: {exc}"), b""
        self._answer(out, reply, data)

    def serve(self, inp: BinaryIO, out: BinaryIO) -> None:
        """Answer requests until the input ends; then finish what runs and clean up."""
        try:
            while True:
                got = read_frame(inp)
                if got is None:
                    break
                header, payload = got
                frame = RequestFrame.model_validate_json(header)
                if isinstance(frame.request, Hello):
                    try:
                        self._answer(out, Reply(id=frame.id, info=self.hello(frame.request)))
                    except Exception as exc:
                        self._answer(out, Reply(id=frame.id, error=f"the box cannot start: {exc}"))
                    continue
                assert self._pool is not None or self.executor is None
                if self._pool is None:
                    self._answer(out, Reply(id=frame.id, error="the first request must be hello"))
                    continue
                self._pool.submit(self._handle, out, frame, payload)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if self.executor is not None:
                self.executor.close()


def _claim_stdio() -> tuple[BinaryIO, BinaryIO]:
    """The protocol's streams; fd 0 becomes /dev/null and fd 1 a copy of stderr."""
    inp, out = os.dup(0), os.dup(1)  # os.dup: not inherited by children
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(inp, "rb"), os.fdopen(out, "wb")


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``python3 -m ioi_box.server [--root DIR] [--workers N] [--isolation ISOLATION]``."""
    ap = argparse.ArgumentParser(prog="python3 -m ioi_box.server", description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, help="work root (default: a fresh temporary folder)")
    ap.add_argument("--workers", type=int, help="parallel job slots (default: CPU count)")
    ap.add_argument("--isolation", choices=REQUIREMENTS,
                    help="require an isolation, or namespaced: zygote or bwrap (default: the best)")
    ap.add_argument("--base64-out", action="store_true",
                    help="armour the output as base64 lines, for transports that carry stdout as text (E2B)")
    args = ap.parse_args(argv)
    inp, out = _claim_stdio()
    if args.base64_out:
        out = Base64LineWriter(out)  # type: ignore[assignment]
    try:
        Server(args.root, args.workers, args.isolation).serve(inp, out)
    except (WireError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        print(f"ioi_box.server: protocol error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
