"""The judge actor: one real box on one node, reached by the driver through Ray.

Each actor owns a box of its node: the in-box executor in the actor's process (``box="local"``: bubblewrap and
cgroups, as the local backend), or one judge container started on its node (``box="docker"``). It answers the
remote protocol's requests (:mod:`ioi_box.protocol`) as ``ioi_box.server`` does over a pipe: the driver's
:class:`~ioi_eval.backends.ray.channel.RayChannel` sends a request frame and gets the reply frame. Blobs reach it
as object-store refs, and land in the node's blob folder once (:class:`~.shipping.NodeBlobs`).

The class is plain Python: the driver wraps it with ``ray.remote`` and its options (CPUs = run slots, spread,
no restarts, no task retries), so importing this module needs no ray.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from ioi_box.protocol import (
    BatchResult,
    CompareJob,
    CompareResult,
    Execute,
    Hello,
    JobResult,
    ProcResult,
    ProcStatus,
    PutBlobs,
    Reply,
    RequestFrame,
)
from ioi_box.protocol import BlobSpec as _BlobSpec

from .shipping import NodeBlobs


class _LocalInner:
    """The executor in this process, answering frames as ``ioi_box.server`` does."""

    def __init__(self) -> None:
        from ioi_box.server import Server

        self.server = Server()

    def call(self, frame: RequestFrame, payload: bytes) -> tuple[Reply, bytes]:
        if isinstance(frame.request, Hello):
            return Reply(id=frame.id, info=self.server.hello(frame.request)), b""
        return self.server.dispatch(frame, payload)

    def close(self) -> None:
        if self.server.executor is not None:
            self.server.executor.close()


class _Relay:
    """A box on the far side of a channel (a container's, a sandbox's): frames relayed over it."""

    channel: Any

    def call(self, frame: RequestFrame, payload: bytes) -> tuple[Reply, bytes]:
        from ..remote import EXECUTE_MARGIN_S, NO_WALL_LIMIT_S

        try:
            return self.channel.call(frame.request, payload, timeout=NO_WALL_LIMIT_S + EXECUTE_MARGIN_S)
        except Exception as exc:  # the box's failure is this request's error (the driver sees an SE)
            return Reply(id=frame.id, error=f"{type(exc).__name__}: {exc}"), b""

    def close(self) -> None:
        self.channel.close()


class _DockerInner(_Relay):
    """One judge container on this node (the Docker backend's), frames relayed over its attach socket."""

    def __init__(self, slots: int, image: str | None) -> None:
        import secrets

        from ..docker import DockerBackend, DockerChannel, remove_stale_containers
        from ..docker_engine import engine_info
        from ..docker_security import seccomp_profile
        from ..image import check_image

        backend = DockerBackend(image=image, slots_per_container=slots)
        info = engine_info()
        check_image(backend.image)
        remove_stale_containers()
        spec = backend.spec(slots, info, seccomp_profile())
        self.note = backend.note
        self.channel = DockerChannel(spec, f"ioi-box-ray-{os.getpid()}-{secrets.token_hex(3)}")


class _E2BInner(_Relay):
    """One E2B sandbox (the E2B backend's), its creation and lease under the cluster's ``limiter``."""

    def __init__(self, slots: int, limiter: Any) -> None:
        from ..e2b import E2BBackend, E2BChannel, SandboxSettings, load_sdk, require_api_key
        from ..limiter import LocalLimiter

        backend = E2BBackend(limiter=limiter)
        sdk = load_sdk()
        require_api_key()
        settings = SandboxSettings(backend.template, slots, backend.isolation, backend.sandbox_timeout_s,
                                   backend.keepalive_s, backend.backoff,
                                   limiter=limiter or LocalLimiter(*backend.limits()))
        self.channel = E2BChannel(sdk, settings, f"ray-{os.getpid()}")


class BoxActor:
    """A box on one node. ``box`` is ``local``, ``docker`` or ``e2b`` (a sandbox leased from ``limiter``, the
    cluster's :class:`~.limiter.RayLimiter`). A ``canned`` actor answers every execute at once
    (runs OK in no time, comparisons equal) without running anything: the driver-ceiling benchmark's."""

    def __init__(self, box: str = "local", slots: int = 1, image: str | None = None,
                 canned: bool = False, limiter: Any = None) -> None:
        import ray

        self.node_id = ray.get_runtime_context().get_node_id()
        self.blobs = NodeBlobs(self.node_id)
        self.box = box
        self.canned = canned
        self.inner: _LocalInner | _DockerInner | _E2BInner
        if box == "docker":
            self.inner = _DockerInner(slots, image)
        elif box == "e2b":
            self.inner = _E2BInner(slots, limiter)
        else:
            self.inner = _LocalInner()

    def call(self, header: bytes, payload: bytes) -> tuple[bytes, bytes]:
        """Answer one request frame: (reply JSON, reply payload)."""
        frame = RequestFrame.model_validate_json(header)
        if self.canned and isinstance(frame.request, Execute):
            return _canned(frame).model_dump_json(exclude_none=True).encode(), b""
        try:
            reply, data = self.inner.call(frame, payload)
        except Exception as exc:  # reported to the driver, as the server does; the actor keeps serving
            reply, data = Reply(id=frame.id, error=f"{type(exc).__name__}: {exc}"), b""
        return reply.model_dump_json(exclude_none=True).encode(), data

    def lacks(self, names: list[str]) -> list[str]:
        """Which blobs this node's folder does not hold yet (the driver sends refs only for those)."""
        return self.blobs.lacks(names)

    def put(self, header: bytes, refs: dict[str, list[Any]]) -> tuple[bytes, bytes]:
        """A put request whose blobs come from the node's folder, or from the object store (``refs``: name ->
        [ref], wrapped so that Ray hands over the ref, not its value) into the folder first."""
        import ray

        frame = RequestFrame.model_validate_json(header)
        req = frame.request
        assert isinstance(req, PutBlobs)
        try:
            fetched = dict(zip(refs, ray.get([r[0] for r in refs.values()]), strict=True)) if refs else {}
            for name, data in fetched.items():
                self.blobs.add(name, data)
            if isinstance(self.inner, _LocalInner) and self.inner.server.executor is not None:
                ex = self.inner.server.executor
                for spec in req.blobs:
                    path = self.blobs.path(spec.name)
                    if path is None:
                        raise FileNotFoundError(f"blob {spec.name} is neither on this node nor in the object store")
                    ex.put_file(path, executable=spec.name.endswith(".x"))  # a hard link, hashed again
                return Reply(id=frame.id).model_dump_json(exclude_none=True).encode(), b""
            payload = b"".join(self._read(s) for s in req.blobs)  # a container gets the bytes
            specs = [_BlobSpec(name=s.name, size=s.size) for s in req.blobs]
            return self.call(RequestFrame(id=frame.id, request=PutBlobs(blobs=specs)).model_dump_json().encode(),
                             payload)
        except Exception as exc:
            return Reply(id=frame.id, error=f"{type(exc).__name__}: {exc}").model_dump_json(
                exclude_none=True).encode(), b""

    def _read(self, spec: _BlobSpec) -> bytes:
        path = self.blobs.path(spec.name)
        if path is None:
            raise FileNotFoundError(f"blob {spec.name} is neither on this node nor in the object store")
        return path.read_bytes()

    def where(self) -> dict[str, Any]:
        """Where this actor runs: node id, host name, process id (faults are injected and reported by these), and
        its box's work root where that is a folder of its node (the executor in this process)."""
        ex = self.inner.server.executor if isinstance(self.inner, _LocalInner) else None
        return {"node_id": self.node_id, "host": socket.gethostname(), "pid": os.getpid(), "box": self.box,
                "host_root": str(ex.root) if ex is not None else None}

    def shutdown(self) -> None:
        """Close the box (its work root, cgroups, a container) before the actor is killed."""
        self.inner.close()


def _canned(frame: RequestFrame) -> Reply:
    """Every job of an execute done at once: runs exit 0 in no time, comparisons match."""
    assert isinstance(frame.request, Execute)
    results = [JobResult(compare=CompareResult(score=1.0)) if isinstance(job, CompareJob)
               else JobResult(procs=[ProcResult(status=ProcStatus.OK, exit_code=0) for _ in job.procs])
               for job in frame.request.batch.jobs]
    return Reply(id=frame.id, result=BatchResult(results=results))
