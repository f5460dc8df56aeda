"""The IOI 50-submission simulation: which candidates are submitted, and the scores."""

from __future__ import annotations

import pytest

from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, TestResult, Verdict
from ioi_eval.scoring.selection import (
    Candidate,
    mean_single_score,
    oracle_score,
    problem_score,
    samples_score_of,
    select,
)
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

NAMES = ["00-samples", "01-a", "02-b", "03-full"]
POINTS = [0.0, 20.0, 30.0, 50.0]


def cand(key: str, target: str | None, scores: list[float] | None = None, *, sample: int = 0,
         samples: float | None = 1.0, length: int = 100, code: bool = True, compiled: bool = True) -> Candidate:
    return Candidate(key=key, target_subtask=target, sample=sample, has_code=code, compiled=compiled,
                     subtask_scores=scores if scores is not None else [0.0, 0.0, 0.0, 0.0],
                     samples_score=samples, length=length)


def keys(selected: list[Candidate]) -> list[str]:
    return [c.key for c in selected]


def test_cap_respected_and_stops_when_exhausted() -> None:
    many = [cand(f"{t}/{i}", t, sample=i) for t in NAMES[1:] for i in range(30)]
    assert len(select(many, NAMES, POINTS)) == 50  # default cap
    assert len(select(many, NAMES, POINTS, cap=7)) == 7
    assert select(many, NAMES, POINTS, cap=0) == []
    few = many[:3]
    assert sorted(keys(select(few, NAMES, POINTS))) == sorted(keys(few))


def test_round_robin_starts_from_the_hardest_subtask() -> None:
    cands = [cand(f"{t}/{i}", t, sample=i) for t in NAMES[1:] for i in range(2)]
    assert keys(select(cands, NAMES, POINTS, cap=6)) == [
        "03-full/0", "02-b/0", "01-a/0", "03-full/1", "02-b/1", "01-a/1"]
    assert keys(select(cands, NAMES, POINTS, cap=4)) == ["03-full/0", "02-b/0", "01-a/0", "03-full/1"]


def test_whole_problem_group_visited_once_per_round_first() -> None:
    cands = [cand("w/0", None, sample=0), cand("w/1", None, sample=1), cand("w/2", None, sample=2),
             cand("f/0", "03-full"), cand("a/0", "01-a")]
    assert keys(select(cands, NAMES, POINTS)) == ["w/0", "f/0", "a/0", "w/1", "w/2"]


def test_solved_subtasks_are_skipped() -> None:
    cands = [
        cand("F1", "03-full", [0, 20, 0, 0], length=500),  # solves subtask 01-a
        cand("F2", "03-full", [0, 0, 0, 10], length=400),
        cand("B1", "02-b", [0, 20, 30, 0], length=300),    # solves 01-a and 02-b
        cand("A1", "01-a", [0, 20, 0, 0], length=200),
        cand("A2", "01-a", [0, 20, 0, 0], length=100),
    ]
    # Round 1: F1, B1, then 01-a is solved: skipped. Round 2: F2. open-r1 (never skipping) took A1 third.
    assert keys(select(cands, NAMES, POINTS, cap=3)) == ["F1", "B1", "F2"]
    # Once every group is solved or exhausted, the slots left go by global rank (longest first here).
    assert keys(select(cands, NAMES, POINTS, cap=5)) == ["F1", "B1", "F2", "A1", "A2"]


def test_all_solved_stops_round_robin() -> None:
    cands = [cand("F1", "03-full", [0, 20, 30, 50], length=2_000), cand("F2", "03-full", length=1_500),
             cand("B1", "02-b", length=1_000)]
    # F1 solves everything: no more round-robin (which would take B1 next); the fill takes F2 (longer).
    assert keys(select(cands, NAMES, POINTS, cap=2)) == ["F1", "F2"]
    assert keys(select(cands, NAMES, POINTS, cap=3)) == ["F1", "F2", "B1"]


def test_compile_errors_and_no_code_dropped() -> None:
    cands = [
        cand("ce", "03-full", [0, 20, 30, 50], compiled=False, length=10_000),
        cand("none", "03-full", [0, 0, 0, 0], code=False, length=10_000),
        cand("ok", "03-full", [0, 0, 0, 5], length=1),
    ]
    assert keys(select(cands, NAMES, POINTS)) == ["ok"]
    assert select(cands[:2], NAMES, POINTS) == []
    # candidates without code need no scores at all
    assert keys(select([cand("x", "01-a", [], code=False), cands[2]], NAMES, POINTS)) == ["ok"]


def test_ranking_samples_then_length_then_sample() -> None:
    cands = [
        cand("s5-long", "03-full", samples=0.5, length=9_000, sample=0),
        cand("s1-short", "03-full", samples=1.0, length=10, sample=1),
        cand("s1-long-b", "03-full", samples=1.0, length=50, sample=3),
        cand("s1-long-a", "03-full", samples=1.0, length=50, sample=2),
        cand("s0", "03-full", samples=0.0, length=99_999, sample=4),
    ]
    assert keys(select(cands, NAMES, POINTS)) == ["s1-long-a", "s1-long-b", "s1-short", "s5-long", "s0"]
    # no samples subtask: None ranks as 0, length decides
    nos = [cand("a", "03-full", samples=None, length=1), cand("b", "03-full", samples=None, length=2)]
    assert keys(select(nos, NAMES, POINTS)) == ["b", "a"]


def test_fill_leftover_slots_by_global_rank() -> None:
    cands = [
        cand("F1", "03-full", [0, 20, 30, 50], samples=1.0, length=1_000),  # solves everything at once
        cand("S1", "00-samples", samples=1.0, length=300),  # 0-point target: never visited round-robin
        cand("A1", "01-a", samples=0.0, length=5_000),
        cand("F2", "03-full", samples=1.0, length=300),  # ties with S1: harder target first
        cand("B1", "02-b", samples=1.0, length=400),
    ]
    assert keys(select(cands, NAMES, POINTS, cap=4)) == ["F1", "B1", "F2", "S1"]
    only_samples = [cand("S1", "00-samples", length=1), cand("S2", "00-samples", length=2)]
    assert keys(select(only_samples, NAMES, POINTS)) == ["S2", "S1"]


def test_bad_candidates_raise() -> None:
    with pytest.raises(ValueError, match="not one of"):
        select([cand("x", "04-nope")], NAMES, POINTS)
    with pytest.raises(ValueError, match="subtask scores"):
        select([cand("x", "01-a", [1.0, 2.0])], NAMES, POINTS)
    with pytest.raises(ValueError, match="differ in length"):
        select([], NAMES, POINTS[:2])


def test_scores_on_hand_computed_examples() -> None:
    a = cand("a", "01-a", [0, 20, 0, 10])
    b = cand("b", "02-b", [0, 0, 30, 25.5])
    c = cand("c", "03-full", [0, 20, 30, 50])
    ce = cand("ce", "03-full", [0, 0, 0, 0], compiled=False)
    none = cand("none", "03-full", [], code=False)
    # IOI: per subtask the best among the selected, summed: 20 + 30 + 25.5
    assert problem_score([a, b]) == 75.5
    assert problem_score([]) == 0.0
    assert oracle_score([a, b, c, ce, none]) == 100.0
    # totals 30, 55.5, 100, 0, 0 over 5 candidates
    assert mean_single_score([a, b, c, ce, none]) == 37.1
    assert mean_single_score([]) == 0.0
    thirds = [cand("t1", "01-a", [0, 20 / 3, 0, 0]), cand("t2", "02-b", [0, 0, 10 / 3, 0])]
    assert problem_score(thirds) == 10.0
    assert problem_score([cand("t", "01-a", [0, 1 / 3, 1 / 3, 0])], precision=2) == 0.67
    assert problem_score([cand("t", "01-a", [0, 1 / 3, 1 / 3, 0])], precision=0) == 1.0


def test_selection_then_score_end_to_end() -> None:
    # 3 candidates per subtask, cap 4: the full-problem solution with partial points is taken first,
    # then the best of each subtask; the 4th slot goes back to 03-full.
    cands = [
        cand("f0", "03-full", [0, 20, 0, 20], length=3), cand("f1", "03-full", [0, 0, 0, 40], length=2),
        cand("f2", "03-full", [0, 20, 30, 50], length=1),
        cand("b0", "02-b", [0, 0, 15, 0], length=3), cand("b1", "02-b", [0, 0, 30, 0], length=2),
        cand("a0", "01-a", [0, 20, 0, 0], length=3),
    ]
    chosen = select(cands, NAMES, POINTS, cap=4)
    assert keys(chosen) == ["f0", "b0", "f1", "b1"]  # 01-a solved by f0, so a0 is skipped
    assert problem_score(chosen) == 20 + 30 + 40
    assert oracle_score(cands) == 100.0


def test_samples_score_of_reports() -> None:
    towers = load_problem(PROBLEMS / "towers")  # samples subtask: tests 0-01, 0-02

    def report(tests: dict[str, float], ok: bool = True) -> JudgeReport:
        return JudgeReport(
            problem="towers", score=0.0, max_score=100.0, compile=CompileResult(ok=ok),
            subtasks=[SubtaskResult(name=st.name, points=st.points, score=0.0, status=Verdict.WA)
                      for st in towers.subtasks],
            tests=[TestResult(name=n, verdict=Verdict.AC if s == 1 else Verdict.PA, score=s)
                   for n, s in tests.items()])

    assert samples_score_of(report({"0-01": 1.0, "0-02": 1.0, "1-01": 0.0}), towers) == 1.0
    assert samples_score_of(report({"0-01": 1.0, "0-02": 0.5}), towers) == 0.5
    assert samples_score_of(report({"0-01": 1.0}), towers) == 0.0  # a test not run counts 0
    assert samples_score_of(report({}, ok=False), towers) == 0.0
    dominoes = load_problem(PROBLEMS / "dominoes")  # no 0-point subtask
    assert samples_score_of(report({}), dominoes) is None
