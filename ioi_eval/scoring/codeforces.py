"""Codeforces scoring of a run: a problem is solved when every test passes.

For problems whose package says ``"scoring": "codeforces"`` a run reports, over the n judged
samples of the problem (a sample with no code counts as a failure): c solved, pass@k for k = 1..n
with the unbiased estimator of Chen et al. (2021), ``1 - C(n-c, k) / C(n, k)``, and the partial
fraction of tests passed (mean and best over the samples), the quantity open-r1's ``partial``
reward uses.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..judge.results import JudgeReport, Verdict


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimate from n samples of which c are correct (k <= n)."""
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n (n={n}, c={c}, k={k})")
    if n - c < k:
        return 1.0
    # 1 - prod_{i=n-c+1}^{n} (1 - k/i): stable for large n (no huge binomials)
    prob_all_fail = 1.0
    for i in range(n - c + 1, n + 1):
        prob_all_fail *= 1.0 - k / i
    return 1.0 - prob_all_fail


def solved(report: JudgeReport) -> bool:
    """Every test passed (and it compiled)."""
    return report.compile.ok and bool(report.tests) and all(t.verdict == Verdict.AC for t in report.tests)


def partial(report: JudgeReport) -> float:
    """The fraction of tests passed (0 when it does not compile)."""
    if not report.compile.ok or not report.tests:
        return 0.0
    return sum(1 for t in report.tests if t.verdict == Verdict.AC) / len(report.tests)


class CodeforcesScore(BaseModel):
    """One Codeforces-scored problem's results in a run."""

    n: int = Field(description="judged samples (no code counts as a failure)")
    c: int = Field(description="samples that pass every test")
    solved: bool
    pass_at_k: dict[int, float] = Field(description="k -> unbiased pass@k, k = 1..n")
    partial_mean: float
    partial_best: float


def score_samples(reports: list[JudgeReport | None]) -> CodeforcesScore:
    """Score a problem's samples: a report per judged sample, None for a sample without code."""
    n = len(reports)
    c = sum(1 for r in reports if r is not None and solved(r))
    fractions = [partial(r) if r is not None else 0.0 for r in reports]
    return CodeforcesScore(n=n, c=c, solved=c > 0,
                           pass_at_k={k: round(pass_at_k(n, c, k), 6) for k in range(1, n + 1)},
                           partial_mean=round(sum(fractions) / n, 6) if n else 0.0,
                           partial_best=round(max(fractions, default=0.0), 6))


class CodeforcesSummary(BaseModel):
    """Codeforces-scored problems of a run, together."""

    problems: int
    solved: int
    pass_at_k: dict[int, float] = Field(description="mean over problems, for the k every problem has")
    partial_mean: float


def summarise(scores: list[CodeforcesScore]) -> CodeforcesSummary | None:
    """The mean pass@k (k up to the smallest n) and partial fraction over problems; None without any."""
    if not scores:
        return None
    kmax = min(s.n for s in scores)
    return CodeforcesSummary(
        problems=len(scores), solved=sum(s.solved for s in scores),
        pass_at_k={k: round(sum(s.pass_at_k[k] for s in scores) / len(scores), 6) for k in range(1, kmax + 1)},
        partial_mean=round(sum(s.partial_mean for s in scores) / len(scores), 6))
