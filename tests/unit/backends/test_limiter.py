"""The limiter's core (:mod:`ioi_eval.backends.limiter`) on a fake clock: leases under a cap that expire unless
renewed, and a token bucket whose reservations keep the rate however many ask at once."""

from __future__ import annotations

import threading
import time

import pytest

from ioi_eval.backends.limiter import Leases, LimitTimeout, LocalLimiter, TokenBucket


def test_leases_cap_release_and_expiry() -> None:
    book = Leases(cap=2)
    a, _ = book.try_acquire("x", ttl_s=10, now=0)
    b, _ = book.try_acquire("y", ttl_s=5, now=1)
    assert a and b and a != b
    none, retry = book.try_acquire("z", ttl_s=10, now=2)
    assert none is None and retry == 4  # b expires at 6
    assert book.release(a) and not book.release(a)
    c, _ = book.try_acquire("z", ttl_s=10, now=2)
    assert c is not None
    assert book.owners(now=3) == {"y": 1, "z": 1}
    assert book.renew(b, ttl_s=5, now=5.5)  # b now lasts until 10.5
    assert book.try_acquire("w", ttl_s=1, now=7)[0] is None
    assert book.owners(now=11) == {"z": 1} and book.expired == 1  # b ran out unrenewed
    assert not book.renew(b, ttl_s=5, now=11)  # too late: it is gone
    assert book.try_acquire("w", ttl_s=1, now=11)[0] is not None
    assert book.granted == 4


@pytest.mark.parametrize(("rate", "burst"), [(1.0, 1.0), (5.0, 5.0), (2.5, 1.0)])
def test_token_bucket_never_lets_more_than_burst_plus_rate_through(rate: float, burst: float) -> None:
    bucket = TokenBucket(rate, burst)
    starts = sorted(0.0 + bucket.reserve(0.0) for _ in range(40))  # 40 callers at the same instant
    assert starts[:int(burst)] == [0.0] * int(burst)
    for i, t in enumerate(starts):  # any window [0, t] holds at most burst + rate * t starts
        assert i + 1 <= burst + rate * t + 1e-9
    assert starts[-1] == pytest.approx((40 - burst) / rate)
    # After a quiet spell the bucket is full again, never fuller.
    later = 1000.0
    assert [bucket.reserve(later) for _ in range(int(burst))] == [0.0] * int(burst)
    assert bucket.reserve(later) == pytest.approx(1 / rate)


def test_local_limiter_blocks_at_the_cap_and_wakes_on_release() -> None:
    lim = LocalLimiter(cap=1, rate=1000)
    first = lim.acquire("a", ttl_s=60, wait_s=1)
    with pytest.raises(LimitTimeout, match="all 1 leases are held"):
        lim.acquire("b", ttl_s=60, wait_s=0.1)
    got: list[str] = []
    t = threading.Thread(target=lambda: got.append(lim.acquire("b", ttl_s=60, wait_s=10)))
    t.start()
    time.sleep(0.2)
    assert not got
    lim.release(first)
    t.join(5)
    assert got and got[0] != first


def test_local_limiter_gives_an_unrenewed_lease_back_when_it_expires() -> None:
    lim = LocalLimiter(cap=1, rate=1000)
    lim.acquire("dead", ttl_s=0.3, wait_s=1)  # its holder never renews nor releases it
    t0 = time.monotonic()
    lim.acquire("next", ttl_s=60, wait_s=5)
    assert 0.2 < time.monotonic() - t0 < 3


def test_local_limiter_paces_with_its_sleep() -> None:
    waits: list[float] = []
    now = [0.0]
    lim = LocalLimiter(cap=1, rate=2, burst=1, clock=lambda: now[0], sleep=waits.append)
    for _ in range(3):
        lim.pace()
    assert waits == [0.5, 1.0]
