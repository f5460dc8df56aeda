"""The driver's end of one judge actor: a :class:`~ioi_eval.backends.remote.Channel` over Ray calls.

The pool and box of :mod:`ioi_eval.backends.remote` do the rest (lazy uploads by content, folder affinity, least
busy first, a box that breaks replaced and its jobs retried once, then SE): to them an actor is one more box.
What is Ray's here:

- a request is one actor call; a put sends object-store refs, not bytes (:mod:`.shipping`), and only for the
  blobs the actor's node lacks;
- an actor or node that dies ends the channel with a :class:`~ioi_eval.errors.ChannelError` naming the cause
  (the pool then starts a fresh actor, wherever Ray finds room, and retries the jobs once there);
- Ray never re-runs a call by itself (``max_restarts=0``, ``max_task_retries=0``): a judged run is never run
  twice without the driver knowing.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from typing import Any

from ioi_box.protocol import Execute, Hello, PutBlobs, Reply, RequestFrame
from ioi_box.protocol import Request as _Request

from ...errors import BoxRequestError, ChannelError
from ..remote import REQUEST_TIMEOUT_S
from .cluster import alive_nodes
from .shipping import ObjectShelf

START_TIMEOUT_S = 120.0  # an actor Ray cannot place (no free CPUs) fails its start instead of waiting forever


class ChannelStats:
    """Counts the driver's progress line reads (shared by every channel of a box)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.in_flight = 0
        self.results = 0  # execute replies received
        self.broken = 0  # actors lost (died, node gone, hung)
        self.causes: list[str] = []  # why each was lost


class RayChannel:
    """One judge actor (started here) and the calls to it."""

    def __init__(self, ray: Any, actor_class: Any, options: dict[str, Any], init: dict[str, Any], name: str,
                 shelf: ObjectShelf, stats: ChannelStats) -> None:
        self.name = name
        self._ray = ray
        self._shelf = shelf
        self._stats = stats
        self._ids = itertools.count(1)
        self._broken: str | None = None
        self.actor = actor_class.options(name=None, **options).remote(**init)
        self.where: dict[str, Any] = {}

    @property
    def alive(self) -> bool:
        """Whether the actor still answers."""
        return self._broken is None

    def call(self, request: _Request, payload: bytes = b"", timeout: float | None = None) -> tuple[Reply, bytes]:
        """One request to the actor; raises :class:`ChannelError` when the actor is lost."""
        if self._broken is not None:
            raise ChannelError(f"box {self.name}: {self._broken}")
        header = RequestFrame(id=next(self._ids), request=request).model_dump_json().encode()
        if isinstance(request, Hello):
            timeout = min(timeout or START_TIMEOUT_S, START_TIMEOUT_S)
            ref = self.actor.call.remote(header, payload)
        elif isinstance(request, PutBlobs) and request.staged is None:
            ref = self._put(request, header, payload, timeout)
        else:
            ref = self.actor.call.remote(header, payload)
        executes = isinstance(request, Execute)
        if executes:
            with self._stats.lock:
                self._stats.in_flight += 1
        try:
            reply_json, data = self._get(ref, timeout)
        finally:
            if executes:
                with self._stats.lock:
                    self._stats.in_flight -= 1
        reply = Reply.model_validate_json(reply_json)
        if isinstance(request, Hello) and reply.info is not None and not self.where:
            self.where = self._get(self.actor.where.remote(), START_TIMEOUT_S)
        if executes:
            with self._stats.lock:
                self._stats.results += 1
        if reply.error:
            raise BoxRequestError(f"box {self.name}: {reply.error}")
        return reply, data

    def _put(self, request: PutBlobs, header: bytes, payload: bytes, timeout: float | None) -> Any:
        """Refs for the blobs the actor's node lacks (each put into the object store once per run)."""
        names = [b.name for b in request.blobs]
        lacking = set(self._get(self.actor.lacks.remote(names), timeout))
        refs: dict[str, list[Any]] = {}
        offset = 0
        for spec in request.blobs:
            if spec.name in lacking:
                refs[spec.name] = [self._shelf.ref(spec.name, payload[offset:offset + spec.size])]
            offset += spec.size
        return self.actor.put.remote(header, refs)

    def _get(self, ref: Any, timeout: float | None) -> Any:
        ray = self._ray
        try:
            return ray.get(ref, timeout=timeout or REQUEST_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            self._break(f"no reply within {timeout or REQUEST_TIMEOUT_S:g} s (the actor hangs)")
        except ray.exceptions.RayActorError as exc:
            self._break(self._cause(exc))
        except ray.exceptions.RayError as exc:  # the object was lost with its node, the worker crashed...
            self._break(f"{type(exc).__name__}: {_first_line(exc)}")
        raise AssertionError("unreachable")

    def _cause(self, exc: Exception) -> str:
        """Why the actor is gone, as far as the driver can tell: its node left the cluster, or its process died."""
        node = self.where.get("node_id")
        where = f" on node {node[:12]} ({self.where.get('host')}, pid {self.where.get('pid')})" if node else ""
        try:
            gone = node is not None and node not in alive_nodes(self._ray)
        except Exception:  # the cluster does not answer either
            gone = False
        what = "its node left the cluster" if gone else "the actor's process died"
        return f"ray actor{where}: {what} ({type(exc).__name__}: {_first_line(exc)})"

    def _break(self, why: str) -> None:
        if self._broken is None:
            self._broken = why
            with self._stats.lock:
                self._stats.broken += 1
                self._stats.causes.append(why)
        self._kill()
        raise ChannelError(f"box {self.name}: {self._broken}")

    def _kill(self) -> None:
        with contextlib.suppress(Exception):  # already dead, or its node is gone
            self._ray.kill(self.actor, no_restart=True)

    def close(self) -> None:
        """Close the actor's box (work root, cgroups, container), then end the actor."""
        if self._broken is None:
            with contextlib.suppress(Exception):  # it died meanwhile: its node cleans up after it (locks released)
                self._ray.get(self.actor.shutdown.remote(), timeout=30)
            self._broken = "the channel was closed"
        self._kill()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return (lines[0] if lines else type(exc).__name__)[:300]
