"""One limiter for the whole cluster: a named Ray actor holding a service's concurrency cap and request rate.

Every judge actor that uses the E2B backend (``--ray-box e2b``) takes its sandbox leases and creation turns from
the same actor, found by name (``get_if_exists``), so E2B's limits hold across nodes, pools and drivers: two
drivers on one cluster with the same E2B account share one limiter. It is detached (it outlives the driver that
made it, so a second driver's leases are never dropped when the first ends), asks for no CPU, and is restarted
by Ray if its node dies (then with no leases: the sandboxes' own renewals take them again within a keep-alive).

Leases expire: each lasts as long as its sandbox would live unrenewed and is renewed with it, so the leases of an
actor that dies (SIGKILL, its node lost) come back when its sandboxes end, without anyone releasing them. The
rate is a token bucket: a creation reserves its turn in the actor and waits for it in the caller, so the actor
never blocks on a sleeping caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from typing import Any

from .cluster import load_ray

NAMESPACE = "ioi-eval"
WAIT_CHUNK_S = 10.0  # one acquire call waits at most this long in the actor; the caller asks again until its deadline


def limiter_name(service: str, account: str) -> str:
    """The limiter's name for ``service`` and an account key (hashed: the key itself never leaves the driver)."""
    return f"ioi-eval-{service}-limiter-{hashlib.sha256(account.encode()).hexdigest()[:12]}"


class LimiterActor:
    """The actor (plain Python; :func:`get_limiter` wraps it with ``ray.remote``): leases under ``cap`` and a token
    bucket of ``rate`` per second, ``burst`` at once. Its methods are coroutines: waiters cost no thread."""

    def __init__(self, cap: int, rate: float, burst: float | None = None) -> None:
        from ..limiter import Leases, TokenBucket

        self.leases = Leases(cap)
        self.bucket = TokenBucket(rate, burst if burst is not None else max(1.0, float(int(rate))))
        self.reserved = 0  # turns handed out
        self._cond: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:  # made in the actor's event loop
            self._cond = asyncio.Condition()
        return self._cond

    async def acquire(self, owner: str, ttl_s: float, wait_s: float) -> str | None:
        """A lease id for ``owner``, waiting up to ``wait_s`` (at most :data:`WAIT_CHUNK_S`) for one; else None."""
        cond = self._condition()
        deadline = time.monotonic() + min(wait_s, WAIT_CHUNK_S)
        async with cond:
            while True:
                lid, retry = self.leases.try_acquire(owner, ttl_s, time.monotonic())
                if lid is not None:
                    return lid
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                with contextlib.suppress(asyncio.TimeoutError):  # a lease may have expired meanwhile
                    await asyncio.wait_for(cond.wait(), timeout=min(left, retry or left))

    async def renew(self, lid: str, ttl_s: float) -> bool:
        """Push lease ``lid``'s expiry ``ttl_s`` ahead; False when it had expired."""
        return self.leases.renew(lid, ttl_s, time.monotonic())

    async def release(self, lid: str) -> bool:
        """End lease ``lid`` and wake a waiter."""
        cond = self._condition()
        async with cond:
            done = self.leases.release(lid)
            cond.notify_all()
        return done

    async def reserve(self) -> float:
        """Reserve the next turn under the rate: the seconds the caller waits before its request."""
        self.reserved += 1
        return self.bucket.reserve(time.monotonic())

    async def state(self) -> dict[str, Any]:
        """Limits, leases held (in all and per owner), granted, expired, turns reserved."""
        owners = self.leases.owners(time.monotonic())
        return {"cap": self.leases.cap, "rate": self.bucket.rate, "burst": self.bucket.burst,
                "held": sum(owners.values()), "owners": owners, "granted": self.leases.granted,
                "expired": self.leases.expired, "reserved": self.reserved}


def get_limiter(ray: Any, name: str, cap: int, rate: float, burst: float | None = None,
                namespace: str = NAMESPACE) -> Any:
    """The limiter actor called ``name`` in ``namespace``, made with these limits if it does not exist yet (an
    existing one keeps the limits it was made with: :meth:`LimiterActor.state` says which)."""
    actor_class = ray.remote(LimiterActor)
    return actor_class.options(name=name, namespace=namespace, get_if_exists=True, lifetime="detached",
                               num_cpus=0, max_restarts=-1, max_task_retries=0,
                               max_concurrency=1000).remote(cap, rate, burst)


class RayLimiter:
    """The :class:`~ioi_eval.backends.limiter.Limiter` protocol over the named actor (in a judge actor, or any
    process connected to the cluster). Built from plain values, so it travels to actors as their argument."""

    def __init__(self, name: str, cap: int, rate: float, burst: float | None = None,
                 namespace: str = NAMESPACE) -> None:
        self.name, self.cap, self.rate, self.burst, self.namespace = name, cap, rate, burst, namespace
        self._actor: Any = None

    def __reduce__(self) -> tuple[Any, ...]:  # the handle stays behind: each process finds the actor by name
        return (RayLimiter, (self.name, self.cap, self.rate, self.burst, self.namespace))

    @property
    def actor(self) -> Any:
        """The limiter actor's handle (found by name, made if missing)."""
        if self._actor is None:
            self._actor = get_limiter(load_ray(), self.name, self.cap, self.rate, self.burst, self.namespace)
        return self._actor

    def _call(self, method: str, *args: Any) -> Any:
        ray = load_ray()
        try:
            return ray.get(getattr(self.actor, method).remote(*args))
        except ray.exceptions.RayActorError:  # restarting, or gone for good: look it up again, once
            self._actor = None
            return ray.get(getattr(self.actor, method).remote(*args))

    def acquire(self, owner: str, ttl_s: float, wait_s: float) -> str:
        from ..limiter import LimitTimeout

        deadline = time.monotonic() + wait_s
        while True:
            lid = self._call("acquire", owner, ttl_s, max(0.0, deadline - time.monotonic()))
            if lid is not None:
                return str(lid)
            if time.monotonic() >= deadline:
                raise LimitTimeout(f"all {self.cap} leases of the cluster's limiter {self.name} are held")

    def renew(self, lease: str, ttl_s: float) -> bool:
        return bool(self._call("renew", lease, ttl_s))

    def release(self, lease: str) -> None:
        self._call("release", lease)

    def pace(self) -> None:
        wait = float(self._call("reserve"))
        if wait > 0:
            time.sleep(wait)

    def state(self) -> dict[str, Any]:
        """The actor's :meth:`LimiterActor.state`."""
        return dict(self._call("state"))
