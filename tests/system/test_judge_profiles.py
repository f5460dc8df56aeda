"""Judge profiles (cms / piston / codeforces), the comparators they bring, and Codeforces scoring."""

from __future__ import annotations

import math

import pytest
from ioi_box.compare_py import cf_lenient, diff_b

from ioi_eval.errors import IoiEvalError
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.languages import CPP_FLAGS
from ioi_eval.judge.profile import PROFILES, get_profile
from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, TestResult, Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types.base import JudgeContext
from ioi_eval.judge.task_types.programs import user_unit
from ioi_eval.scoring.codeforces import pass_at_k, score_samples, summarise
from ioi_eval.sources.loader import load_problem


@pytest.mark.parametrize("expected, output, same", [
    (b"1 2\n", b"1 2\n", True),
    (b"1 2\n", b"1   2\t\n", True),  # runs of blanks and trailing blanks
    (b"1 2\n", b"1 2", True),  # missing final newline
    (b"1 2\n\n\n", b"1 2\n", True),  # $(cat) drops the answer's trailing newlines
    (b"1 2\n", b"1 2\r\n", True),
    (b"1 2\n", b" 1 2\n", False),  # leading blanks count (CMS white-diff ignores them)
    (b"1 2\n", b"1 2\n\n", False),  # a blank line counts
    (b"12\n", b"1 2\n", False),
    (b"a\nb\n", b"a b\n", False),
])
def test_diff_b(expected, output, same):
    assert diff_b(expected, output)[0] is same


@pytest.mark.parametrize("expected, output, same", [
    (b"YES\n", b"yes", True),
    (b"NO\n3 4\n", b"no 3\n\n  4\n", True),  # newlines and blanks are all one separator
    (b"Yes\n", b"yES\n", True),
    (b"abc\n", b"ABC\n", False),  # only yes/no ignore case
    (b"YES\n", b"YESS\n", False),
    (b"1 2\n", b"1\n", False),
])
def test_cf_lenient(expected, output, same):
    assert cf_lenient(expected, output)[0] is same


def test_profiles(sum_package):
    assert get_profile(None) is PROFILES["cms"] and PROFILES["cms"].cpp_flags == CPP_FLAGS
    assert "-static" not in PROFILES["piston"].cpp_flags and PROFILES["piston"].time == "wall"
    assert "-DONLINE_JUDGE" in PROFILES["codeforces"].cpp_flags
    with pytest.raises(IoiEvalError, match="unknown judge profile"):
        get_profile("nope")
    problem = load_problem(sum_package)
    sub = Submission(name="s.cpp", language="cpp", source=b"int main(){}")
    assert "-static" in user_unit(problem, sub, None).flags
    piston = user_unit(problem, sub, None, PROFILES["piston"])
    assert "-static" not in piston.flags
    assert dict(piston.files)["sum.cpp"].startswith(b"#include <bits/stdc++.h>\n\nusing namespace std;\n\nint main")
    strict = JudgeContext(box=None, compiler=None, problem=problem).user_limits()  # type: ignore[arg-type]
    wall = JudgeContext(box=None, compiler=None, problem=problem,  # type: ignore[arg-type]
                        profile=PROFILES["piston"]).user_limits()
    assert (strict.cpu_s, strict.wall_s) == (1.0, 3.0) and (wall.cpu_s, wall.wall_s) == (0.0, 1.0)


def test_piston_profile_judges_with_diff_b(sum_package, tmp_path):
    problem = load_problem(sum_package)
    lead = b"#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\" %lld\\n\",a+b);}\n"
    sub = Submission(name="s.cpp", language="cpp", source=lead)
    with Judge(cache_dir=tmp_path, profile="piston") as piston, Judge(cache_dir=tmp_path) as cms:
        assert cms.judge(problem, sub).score == 100  # white-diff ignores the leading blank
        assert piston.judge(problem, sub).score == 0  # diff -b does not


def test_pass_at_k_matches_the_binomial_formula():
    for n in (1, 5, 20):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1.0 - math.comb(n - c, k) / math.comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact, abs=1e-12)
    assert pass_at_k(10, 1, 1) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        pass_at_k(3, 4, 1)


def _report(verdicts: list[Verdict], compiled: bool = True) -> JudgeReport:
    tests = [TestResult(name=f"t{i}", verdict=v, score=1.0 if v == Verdict.AC else 0.0) for i, v in enumerate(verdicts)]
    ok = all(v == Verdict.AC for v in verdicts)
    return JudgeReport(problem="cf1A", score=1.0 if ok else 0.0, max_score=1.0, compile=CompileResult(ok=compiled),
                       subtasks=[SubtaskResult(name="01-all", points=1, score=1.0 if ok else 0.0,
                                               status=Verdict.AC if ok else Verdict.WA)], tests=tests)


def test_codeforces_sample_scores():
    ac, wa = Verdict.AC, Verdict.WA
    s = score_samples([_report([ac, ac, ac, ac]), _report([ac, wa, ac, ac]), None, _report([wa, wa, wa, wa])])
    assert (s.n, s.c, s.solved) == (4, 1, True)
    assert s.pass_at_k[1] == pytest.approx(0.25) and s.pass_at_k[4] == 1.0 and set(s.pass_at_k) == {1, 2, 3, 4}
    assert s.partial_mean == pytest.approx((1 + 0.75 + 0 + 0) / 4) and s.partial_best == 1.0
    none = score_samples([None, _report([ac], compiled=False)])
    assert (none.c, none.solved, none.pass_at_k[2], none.partial_mean) == (0, False, 0.0, 0.0)
    summary = summarise([s, none])
    assert summary is not None and summary.solved == 1 and set(summary.pass_at_k) == {1, 2}
    assert summary.pass_at_k[1] == pytest.approx(0.125)
    assert summarise([]) is None
