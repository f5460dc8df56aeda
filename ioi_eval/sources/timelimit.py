"""A Kattis package's time limit derived from its accepted submissions, the way problemtools does it.

problemtools judges every accepted submission on every test, takes the slowest one's running time
(its slowest test) and sets the limit to ``max(1, ceil(slowest * multiplier / resolution)) *
resolution`` seconds, where ``multiplier`` is ``limits.time_multiplier`` (legacy, default 5) or
``limits.time_multipliers.ac_to_time_limit`` (2023-07 on, default 2) and ``resolution`` is
``limits.time_resolution`` (default 1). Here the submissions are judged by ioi-eval's own judge (CPU
time, the measure of its limits) under a provisional limit, once: the imported package is cached.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import PackageError
from ..problem.writer import PackageDraft, write_package

#: The limit accepted submissions run under while the real one is unknown (problemtools: 300 s).
PROVISIONAL_S = 60.0
ACCEPTED = ("model_solution", "correct")


@dataclass(frozen=True)
class TimeRule:
    """How a limit follows from the slowest accepted running time."""

    multiplier: float
    resolution: float = 1.0

    def limit(self, slowest_s: float) -> float:
        """problemtools' rounding: a whole number of resolutions, at least one second's worth."""
        return max(1, math.ceil(slowest_s * self.multiplier / self.resolution)) * self.resolution


def derive_time_limit(draft: PackageDraft, rule: TimeRule, backend: str = "local") -> tuple[float, dict[str, Any]]:
    """The time limit of ``draft`` from its accepted submissions (judged on ``backend``), and a note of how."""
    from ..judge.judge import Judge
    from ..judge.results import Verdict
    from ..judge.submission import Submission
    from .loader import load_problem

    where = draft.origin.get("path", draft.code)
    with tempfile.TemporaryDirectory(prefix="ioi-eval-tl-") as tmp:
        root = Path(tmp) / draft.code
        root.mkdir()
        write_package(replace(draft, time_limit=PROVISIONAL_S), root)
        problem = load_problem(root)
        accepted = [s for s in problem.solutions if s.category in ACCEPTED]
        if not accepted:
            raise PackageError(f"{where}: no time limit and no accepted C++ or Python submission to derive it from")
        slowest, by = 0.0, ""
        with Judge(backend) as judge:
            for sol in accepted:
                report = judge.judge(problem, Submission.from_source(sol.path), skip=False)
                bad = next((t for t in report.tests if t.verdict != Verdict.AC), None)
                if report.has_system_error or bad is not None or report.score < report.max_score:
                    what = f"{bad.name}: {bad.verdict.value} {bad.message}" if bad else f"score {report.score:g}"
                    raise PackageError(f"{where}: the accepted submission {sol.path.name} is not accepted under "
                                       f"the provisional {PROVISIONAL_S:g} s limit ({what}); cannot derive the "
                                       "time limit")
                runtime = max((t.cpu_s for t in report.tests), default=0.0)
                if runtime >= slowest:
                    slowest, by = runtime, sol.path.name
    limit = rule.limit(slowest)
    return limit, {"slowest_s": round(slowest, 6), "submission": by, "multiplier": rule.multiplier,
                   "resolution": rule.resolution, "time_limit": limit}
