"""Compile once per cluster: a registry of compiled programs in the object store, shared by every node.

Each judge actor of the submission path (:mod:`ioi_eval.judge.on_ray`) compiles in its node's box with its node's
compile cache. Behind that cache it asks the pool's :class:`CompileRegistry` actor (named, no CPU, one per pool,
ended with it), through :class:`SharedTier` (the compiler's :class:`~ioi_eval.judge.compiler.SharedCompiles`):

- a key the registry holds: the entry (the compile result's JSON and the static program) comes out of the object
  store and goes into the node's cache, so the rest is as a local hit;
- a key nobody holds: the caller claims it, compiles, and offers the entry; the registry puts it into the object
  store itself (it owns the object, so the object outlives the actor that compiled it; Ray removed
  ``ray.put(_owner=...)``) and keeps it; a compile that ends without an entry (a transient failure, a CE cut by a
  limit: what the local cache does not keep either) releases the claim;
- a key another caller has claimed: the caller polls until that entry comes (or the claim is released or
  lapses: then it claims it), for at most :data:`WAIT_S`; then it compiles itself. A claimant renews its claim
  every :data:`RENEW_S` while it compiles, and a claim not renewed lapses after :data:`CLAIM_TTL_S`, so a
  claimant that died (its actor killed, its node lost) holds the others up for seconds, not minutes.

The registry keeps at most ``max_bytes`` of entries, the least recently used dropped first (their objects freed),
and runs on the driver's node where it can (a lost worker node takes none of it along). An entry whose object was
lost anyway is forgotten and compiled again. A registry that cannot be reached costs a compile, never a verdict.
:class:`CompileRegistry` and :class:`SharedTier` are plain Python (the unit tests use them in one process);
:class:`RayCompileRegistry` and :class:`RayCompileTier` put them on Ray.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from ...envvars import env_number
from .cluster import load_ray

log = logging.getLogger("ioi_eval.ray")

NAMESPACE = "ioi-eval"
WAIT_S = 120.0  # how long a caller waits for another's compile of the same key (a trusted compile's wall limit)
CLAIM_TTL_S = 10.0  # a claim not renewed for this long lapses (its holder died)
RENEW_S = 3.0  # how often a compiling caller renews its claims
POLL_S = (0.05, 0.5)  # first and longest pause between two asks of a caller that waits
MAX_BYTES = 512 << 20  # entries kept by default; $IOI_EVAL_RAY_COMPILES_MB
CALL_TIMEOUT_S = 30.0  # one call to the registry, or one fetch of an entry

Entry = tuple[str, bytes | None]  # (the compile result's JSON, the program's bytes; None for a CE)


class CompileRegistry:
    """Compile-cache key -> an entry in the store (``store(entry)`` makes the handle that :meth:`claim` hands
    out; here the entry itself), plus the claims of keys being compiled. Non-blocking: a caller that must wait
    asks again (:class:`SharedTier`)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[Any, int]] = OrderedDict()  # key -> (stored entry, bytes)
        self._claims: dict[str, tuple[str, float]] = {}  # key -> (token, when it lapses: time.monotonic())
        self._lock = threading.Lock()
        self.bytes = 0
        self.counts = {"claimed": 0, "renewed": 0, "hits": 0, "busy": 0, "registered": 0, "duplicates": 0,
                       "released": 0, "lapsed": 0, "evicted": 0, "lost": 0, "refused": 0}

    def _store(self, entry: Entry) -> Any:
        return entry

    def _handle(self, stored: Any) -> Any:
        return stored

    def claim(self, key: str, token: str, ttl_s: float = CLAIM_TTL_S) -> tuple[str, Any]:
        """``("hit", [the stored entry])``; ``("mine", None)``: ``token`` holds the key for ``ttl_s`` seconds
        (:meth:`renew` extends it), compile it; ``("busy", None)``: another token holds it, ask again."""
        now = time.monotonic()
        with self._lock:
            got = self._entries.get(key)
            if got is not None:
                self._entries.move_to_end(key)
                self.counts["hits"] += 1
                return "hit", [self._handle(got[0])]
            held = self._claims.get(key)
            if held is not None and held[0] != token:
                if held[1] > now:
                    self.counts["busy"] += 1
                    return "busy", None
                self.counts["lapsed"] += 1
            self._claims[key] = (token, now + ttl_s)
            self.counts["claimed"] += 1
            return "mine", None

    def renew(self, key: str, token: str, ttl_s: float = CLAIM_TTL_S) -> bool:
        """Push ``token``'s claim on ``key`` ``ttl_s`` seconds ahead; False when it holds none (lapsed, taken)."""
        with self._lock:
            held = self._claims.get(key)
            if held is None or held[0] != token:
                return False
            self._claims[key] = (token, time.monotonic() + ttl_s)
            self.counts["renewed"] += 1
            return True

    def register(self, key: str, result: str, program: bytes | None) -> bool:
        """Keep the entry compiled for ``key`` (claimed or not: a caller that waited too long compiles unclaimed)
        and end its claim; False when one is kept already (the first stays) or it alone exceeds ``max_bytes``."""
        size = len(result) + len(program or b"")
        with self._lock:
            self._claims.pop(key, None)  # whoever held it: the entry is here now
            if key in self._entries:
                self.counts["duplicates"] += 1
                return False
            if size > self.max_bytes:
                self.counts["refused"] += 1
                return False
        stored = self._store((result, program))  # outside the lock: ray.put copies the bytes
        with self._lock:
            if key in self._entries:
                self.counts["duplicates"] += 1
                return False
            self._entries[key] = (stored, size)
            self.bytes += size
            self.counts["registered"] += 1
            while self.bytes > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)  # its object is freed with its last ref
                self.bytes -= dropped
                self.counts["evicted"] += 1
        return True

    def release(self, key: str, token: str) -> None:
        """``token`` gives up its claim on ``key`` (a compile with nothing to share): the next caller claims it."""
        with self._lock:
            held = self._claims.get(key)
            if held is not None and held[0] == token:
                del self._claims[key]
                self.counts["released"] += 1

    def forget(self, key: str) -> None:
        """Drop ``key``'s entry: its object could not be fetched (lost with a node)."""
        with self._lock:
            got = self._entries.pop(key, None)
            if got is not None:
                self.bytes -= got[1]
                self.counts["lost"] += 1

    def state(self) -> dict[str, Any]:
        """Entries and their bytes, the claims held now, and what happened (``counts``: claims granted, hits, busy
        answers, entries registered, duplicates, released claims, evicted, lost and refused entries)."""
        now = time.monotonic()
        with self._lock:
            return {"entries": len(self._entries), "bytes": self.bytes, "max_bytes": self.max_bytes,
                    "claims": sum(t > now for _, t in self._claims.values()), **self.counts}


class RayCompileRegistry(CompileRegistry):
    """The registry as a Ray actor: each entry put into the object store by the registry itself, so it owns the
    object (the actor that compiled it may die) and the object is freed when the entry is dropped."""

    def _store(self, entry: Entry) -> Any:
        return load_ray().put(entry)


class SharedTier:
    """The compiler's :class:`~ioi_eval.judge.compiler.SharedCompiles` over a registry reached by ``call(method,
    *args)``, its entries read by ``fetch`` (in one process: the registry's own methods and the entry itself).
    Thread-safe: each thread's claims are its own; one thread renews them all while they are held."""

    def __init__(self, call: Callable[..., Any], fetch: Callable[[Any], Entry] = lambda stored: stored,
                 wait_s: float = WAIT_S, claim_ttl_s: float = CLAIM_TTL_S, renew_s: float = RENEW_S) -> None:
        self._call_registry, self._fetch, self.wait_s = call, fetch, wait_s
        self.claim_ttl_s, self.renew_s = claim_ttl_s, renew_s
        self._held: dict[tuple[str, int], str] = {}  # (key, thread) -> the token of its claim
        self._lock = threading.Lock()
        self._renewer: threading.Thread | None = None
        self._warned = False

    def _call(self, method: str, *args: Any) -> Any:
        """The registry's answer; None where it could not be reached (said once: compiles then stay local)."""
        try:
            return self._call_registry(method, *args)
        except Exception as exc:
            if not self._warned:
                self._warned = True
                log.warning("the cluster's compile registry cannot be reached (%s: %s): compiling on this node",
                            type(exc).__name__, exc)
            return None

    def fetch(self, key: str) -> Entry | None:
        token = uuid.uuid4().hex
        deadline = time.monotonic() + self.wait_s
        pause, lost = POLL_S[0], False
        while True:
            answer = self._call("claim", key, token, self.claim_ttl_s)
            if answer is None:
                return None
            state, found = answer
            if state == "hit":
                try:
                    result, program = self._fetch(found[0])
                    return str(result), (bytes(program) if program is not None else None)
                except Exception as exc:  # lost with its node: forget it and claim the key, once
                    log.warning("compile registry: entry %s could not be fetched (%s): compiling it again", key[:12],
                                type(exc).__name__)
                    self._call("forget", key)
                    if lost:
                        return None
                    lost = True
                    continue
            if state == "mine":
                with self._lock:
                    self._held[(key, threading.get_ident())] = token
                    if self._renewer is None:
                        self._renewer = threading.Thread(target=self._renew, name="ioi-compile-claims", daemon=True)
                        self._renewer.start()
                return None
            left = deadline - time.monotonic()
            if left <= 0:  # the other compile takes too long: compile here, unclaimed
                return None
            time.sleep(min(pause, left))
            pause = min(pause * 1.5, POLL_S[1])

    def _renew(self) -> None:
        """Renew the claims held, every ``renew_s``, until none is."""
        while True:
            time.sleep(self.renew_s)
            with self._lock:
                held = list(self._held.items())
                if not held:
                    self._renewer = None
                    return
            for (key, _), token in held:
                self._call("renew", key, token, self.claim_ttl_s)

    def _token(self, key: str) -> str:
        with self._lock:
            return self._held.pop((key, threading.get_ident()), "")

    def offer(self, key: str, result: str, program: bytes | None) -> None:
        self._token(key)
        self._call("register", key, result, program)

    def drop(self, key: str) -> None:
        token = self._token(key)
        if token:
            self._call("release", key, token)


class RayCompileTier(SharedTier):
    """:class:`SharedTier` over the registry actor ``handle`` (in a judge actor); travels as its handle."""

    def __init__(self, handle: Any, wait_s: float = WAIT_S) -> None:
        self.handle = handle
        super().__init__(self._remote, self._get, wait_s)

    def __reduce__(self) -> tuple[Any, ...]:
        return (RayCompileTier, (self.handle, self.wait_s))

    def _remote(self, method: str, *args: Any) -> Any:
        ray = load_ray()
        return ray.get(getattr(self.handle, method).remote(*args), timeout=CALL_TIMEOUT_S)

    @staticmethod
    def _get(ref: Any) -> Entry:
        return load_ray().get(ref, timeout=CALL_TIMEOUT_S)


def registry_bytes() -> int:
    """What the registry keeps at most: ``$IOI_EVAL_RAY_COMPILES_MB`` (MiB), else :data:`MAX_BYTES`."""
    mb = env_number("IOI_EVAL_RAY_COMPILES_MB", MAX_BYTES / (1 << 20), kind=float, unit="MiB")
    return max(0, int(mb * (1 << 20)))


def open_registry(ray: Any, name: str, max_bytes: int | None = None) -> Any:
    """The registry actor called ``name`` (namespace ``ioi-eval``), made if it does not exist yet: no CPU, on the
    caller's node where Ray can place it there, restarted empty if it dies (its callers compile meanwhile)."""
    options: dict[str, Any] = {"name": name, "namespace": NAMESPACE, "get_if_exists": True, "num_cpus": 0,
                               "max_restarts": -1, "max_task_retries": 0, "max_concurrency": 16}
    try:
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(),
                                                                        soft=True)
    except Exception:  # no node of its own (a client connection): wherever Ray puts it
        pass
    return ray.remote(RayCompileRegistry).options(**options).remote(
        registry_bytes() if max_bytes is None else max_bytes)
