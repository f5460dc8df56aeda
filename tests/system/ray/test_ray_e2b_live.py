"""``--ray-box e2b`` against the real E2B service: runs only when ``E2B_API_KEY`` is set (a plain skip otherwise:
CI has no E2B account). It needs the judge template (``ioi-eval sandbox build --e2b``).

On a real 3-node Ray cluster, judge actors on every node judge pairsum's reference solutions in E2B sandboxes,
through the one named limiter: the verdicts equal the local backend's, every sandbox held a lease, and every
lease is given back when the pool closes.
"""

from __future__ import annotations

import os

import pytest

from ioi_eval.backends.e2b import E2BBackend
from ioi_eval.backends.ray.limiter import RayLimiter, limiter_name
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.validate import validate_problem
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not os.environ.get("E2B_API_KEY"),
                                                   reason="E2B_API_KEY is not set")]


def test_ray_box_e2b_on_the_real_service(cluster, judge) -> None:
    problem = load_problem(PROBLEMS / "pairsum")
    cap, rate = E2BBackend().limits()
    limiter = RayLimiter(limiter_name("e2b", os.environ["E2B_API_KEY"]), cap, rate)
    before = limiter.state()["granted"]
    with Judge("ray", workers=3, box="e2b") as on_e2b:
        remote = validate_problem(on_e2b, problem)
        pool = on_e2b.submission_pool
        assert pool is not None
        actors = sum(a.alive for a in pool.actors)
        assert limiter.state()["held"] >= actors  # each actor's sandboxes hold leases while open
    local = validate_problem(judge, problem)
    bad = {c.solution.key: c.problems for c in remote if not c.ok}
    assert not bad, bad
    for r, loc in zip(remote, local, strict=True):
        assert (r.report.score, [t.verdict for t in r.report.tests]) == \
            (loc.report.score, [t.verdict for t in loc.report.tests]), r.solution.key
    state = limiter.state()
    assert state["granted"] - before >= actors and state["held"] == 0
