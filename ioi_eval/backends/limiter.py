"""Limits of a remote service shared by everything that calls it: a concurrency cap and a request rate.

The core is two small state machines with a clock passed in (so one process, an asyncio Ray actor or a test can
drive them): :class:`Leases` (at most ``cap`` held at once; each lease expires ``ttl`` seconds after it was last
renewed, so a holder that dies without releasing gives its lease back when the expiry passes) and
:class:`TokenBucket` (at most ``burst`` requests at once, then ``rate`` per second; a request reserves its slot
and waits for it). :class:`LocalLimiter` puts them behind :class:`Limiter`, the protocol a backend calls
(the E2B backend: one lease per sandbox, one token per sandbox creation); the Ray backend's named limiter actor
(:mod:`.ray.limiter`) is the same protocol for a whole cluster.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol


class LimitTimeout(TimeoutError):
    """No lease came free within the wait asked for."""


@dataclass
class _Lease:
    owner: str
    expires: float


@dataclass
class Leases:
    """At most ``cap`` leases held at once; a lease ends when released or ``ttl`` after its last renewal."""

    cap: int
    held: dict[str, _Lease] = field(default_factory=dict)
    granted: int = 0  # leases ever granted
    expired: int = 0  # leases that ran out without a release (their holders died or lost touch)

    def sweep(self, now: float) -> None:
        """Drop the leases whose expiry has passed."""
        for lid in [lid for lid, lease in self.held.items() if lease.expires <= now]:
            del self.held[lid]
            self.expired += 1

    def try_acquire(self, owner: str, ttl_s: float, now: float) -> tuple[str | None, float]:
        """(a new lease id, 0) when one is free; else (None, seconds until the next expiry frees one)."""
        self.sweep(now)
        if len(self.held) < self.cap:
            lid = secrets.token_hex(8)
            self.held[lid] = _Lease(owner, now + ttl_s)
            self.granted += 1
            return lid, 0.0
        return None, max(0.0, min(lease.expires for lease in self.held.values()) - now)

    def renew(self, lid: str, ttl_s: float, now: float) -> bool:
        """Push lease ``lid``'s expiry to ``now + ttl_s``; False when it is not held (it expired, or never was)."""
        self.sweep(now)
        lease = self.held.get(lid)
        if lease is None:
            return False
        lease.expires = now + ttl_s
        return True

    def release(self, lid: str) -> bool:
        """End lease ``lid``; False when it was not held."""
        return self.held.pop(lid, None) is not None

    def owners(self, now: float) -> dict[str, int]:
        """Leases held per owner."""
        self.sweep(now)
        out: dict[str, int] = {}
        for lease in self.held.values():
            out[lease.owner] = out.get(lease.owner, 0) + 1
        return out


@dataclass
class TokenBucket:
    """``rate`` requests per second, ``burst`` at once. A request reserves the next slot (the bucket may go into
    debt) and is told how long to wait for it, so waiters are served in order and the rate holds however many
    ask at once."""

    rate: float
    burst: float = 1.0
    tokens: float = -1.0  # starts full
    last: float | None = None

    def reserve(self, now: float, n: float = 1.0) -> float:
        """Seconds to wait before the reserved request may go."""
        if self.last is None:
            self.tokens, self.last = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        self.tokens -= n
        return max(0.0, -self.tokens / self.rate)


class Limiter(Protocol):
    """What a backend asks of a limiter (the E2B backend: a lease per sandbox, :meth:`pace` per creation)."""

    def acquire(self, owner: str, ttl_s: float, wait_s: float) -> str:
        """A lease (its id), waiting up to ``wait_s`` for one; :class:`LimitTimeout` when none came free."""
        ...

    def renew(self, lease: str, ttl_s: float) -> bool:
        """Keep ``lease`` for ``ttl_s`` more seconds; False when it had expired already."""
        ...

    def release(self, lease: str) -> None:
        """Give ``lease`` back."""
        ...

    def pace(self) -> None:
        """Wait for this request's turn under the rate limit."""
        ...


class LocalLimiter:
    """:class:`Limiter` for one process (threads wait on a condition)."""

    def __init__(self, cap: int, rate: float, burst: float | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.leases = Leases(cap)
        self.bucket = TokenBucket(rate, burst if burst is not None else max(1.0, float(int(rate))))
        self._clock, self._sleep = clock, sleep
        self._cond = threading.Condition()

    def acquire(self, owner: str, ttl_s: float, wait_s: float) -> str:
        deadline = self._clock() + wait_s
        with self._cond:
            while True:
                lid, retry = self.leases.try_acquire(owner, ttl_s, self._clock())
                if lid is not None:
                    return lid
                left = deadline - self._clock()
                if left <= 0:
                    raise LimitTimeout(f"all {self.leases.cap} leases are held")
                self._cond.wait(min(left, retry or left, 1.0))

    def renew(self, lease: str, ttl_s: float) -> bool:
        with self._cond:
            return self.leases.renew(lease, ttl_s, self._clock())

    def release(self, lease: str) -> None:
        with self._cond:
            self.leases.release(lease)
            self._cond.notify_all()

    def pace(self) -> None:
        with self._cond:
            wait = self.bucket.reserve(self._clock())
        if wait > 0:
            self._sleep(wait)
