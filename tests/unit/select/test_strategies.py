"""Selection strategies on synthetic pools whose answers are known by construction."""

from __future__ import annotations

import pytest

from ioi_eval.errors import SelectError
from ioi_eval.scoring.selection import Candidate
from ioi_eval.select import STRATEGIES, get_strategy
from ioi_eval.select.base import Entry, Pool
from ioi_eval.select.cluster import submission_order
from ioi_eval.select.evaluate import parse_budgets
from ioi_eval.select.openr1 import simulate

NAMES = ["00-samples", "01-a", "02-b", "03-full"]
POINTS = [0.0, 20.0, 30.0, 50.0]


def entry(key: str, target: str | None, fractions: list[float], tokens: int = 100, *, code: bool = True,
          compiled: bool = True, sample: int = 0) -> Entry:
    scores = [f * p for f, p in zip(fractions, POINTS, strict=True)] if compiled else [0.0] * 4
    cand = Candidate(key=key, target_subtask=target, sample=sample, has_code=code, compiled=compiled and code,
                     subtask_scores=scores, samples_score=fractions[0] if compiled else 0.0, length=tokens)
    return Entry(candidate=cand, fractions=tuple(fractions) if compiled else (0.0,) * 4, tokens=tokens)


def pool(entries: list[Entry], behaviour: dict[str, tuple[str, ...]] | None = None) -> Pool:
    return Pool(problem="p", names=NAMES, points=POINTS, precision=2, entries=entries, samples_index=0,
                behaviour=behaviour or {})


def points(name: str, p: Pool, budget: int | None, seed: int = 0) -> float:
    return get_strategy(name).outcome(p, budget, seed).points


def test_every_strategy_declares_its_information() -> None:
    assert {n: c.information for n, c in STRATEGIES.items()} == {
        "oracle": "hidden", "openr1": "public", "ioi-eval": "public", "random": "public",
        "public-tests": "public", "cluster": "public"}
    with pytest.raises(SelectError, match=r"unknown selection strategy 'best'.*oracle"):
        get_strategy("best")


def test_budgets_parse_and_refuse_bad_items() -> None:
    assert parse_budgets("50,1,all,5,5") == [1, 5, 50, None]
    for bad in ("0", "x", "-3", ""):
        with pytest.raises(SelectError, match="--budget"):
            parse_budgets(bad)


# -- samples that fail the examples, samples that pass only hidden tests ---------------------------------
HIDDEN_ONLY = [
    entry("full/0", "03-full", [0.0, 1, 1, 1], tokens=50),      # fails the examples, solves every hidden test
    entry("full/1", "03-full", [1.0, 1, 0, 0], tokens=40),      # passes the examples: 20 points
    entry("full/2", "03-full", [1.0, 0, 1, 0], tokens=30),      # passes the examples: 30 points
    entry("full/3", "03-full", [1.0, 0, 0, 0], tokens=999, compiled=False),  # does not compile
    entry("full/4", "03-full", [0.0, 0, 0, 0], code=False),     # no code
]


def test_oracle_is_the_best_per_subtask_over_everything_whatever_the_budget() -> None:
    p = pool(HIDDEN_ONLY)
    assert [points("oracle", p, b) for b in (1, 2, None)] == [100.0, 100.0, 100.0]


def test_public_tests_never_submits_what_fails_the_examples() -> None:
    p = pool(HIDDEN_ONLY)
    # ioi-eval's default ranks by samples score first, so the hidden-only sample comes last but still comes
    assert [points("ioi-eval", p, b) for b in (1, 2, 3, None)] == [20.0, 50.0, 100.0, 100.0]
    assert [points("public-tests", p, b) for b in (1, 2, 3, None)] == [20.0, 50.0, 50.0, 50.0]
    assert get_strategy("public-tests").outcome(p, None, 0).submitted == 2


# -- clusters of identical behaviour ------------------------------------------------------------------
def clustered() -> Pool:
    # three samples agree (and are right: 100 points); two others agree among themselves (20 points) and are
    # longer, so the default picks them first; one fails the examples and is never run.
    entries = [entry(f"full/{i}", "03-full", [1.0, 1, 1, 1], tokens=10 + i, sample=i) for i in range(3)]
    entries += [entry(f"full/{i}", "03-full", [1.0, 1, 0, 0], tokens=100 + i, sample=i) for i in range(3, 5)]
    entries.append(entry("full/5", "03-full", [0.0, 1, 1, 1], tokens=500, sample=5))
    behaviour = {f"full/{i}": ("OK:a", "OK:b") for i in range(3)} | {f"full/{i}": ("OK:a", "WA") for i in (3, 4)}
    return pool(entries, behaviour)


def test_cluster_submits_the_largest_cluster_first() -> None:
    p = clustered()
    assert [points("ioi-eval", p, b) for b in (1, 2, 3)] == [20.0, 20.0, 100.0]
    assert [points("cluster", p, b) for b in (1, 2)] == [100.0, 100.0]
    # then round-robin over the clusters: the best of the second cluster, before the second of the first
    order = [c.key for c in submission_order(p, 10)]
    assert order[:2] == ["full/2", "full/4"]
    assert "full/5" not in order  # fails the examples
    assert sorted(order) == [f"full/{i}" for i in range(5)]


def test_cluster_without_behaviour_keeps_each_sample_alone() -> None:
    p = clustered()
    p.behaviour = {}
    # singletons ranked as the default ranks them (samples score, length): the 20-point ones first
    assert points("cluster", p, 1) == 20.0


def test_cluster_goes_round_robin_over_target_subtasks_and_skips_solved_ones() -> None:
    entries = [entry("a/0", "01-a", [1.0, 1, 0, 0], tokens=5), entry("b/0", "02-b", [1.0, 0, 1, 0], tokens=5),
               entry("full/0", "03-full", [1.0, 0, 0, 1], tokens=5),
               entry("full/1", "03-full", [1.0, 1, 1, 1], tokens=1)]
    p = pool(entries, {e.key: ("x",) for e in entries})
    assert [c.key for c in submission_order(p, 3)] == ["full/0", "b/0", "a/0"]
    assert points("cluster", p, 3) == 100.0


# -- random --------------------------------------------------------------------------------------------
def test_random_is_exact_when_every_sample_is_submitted_and_seeded_otherwise() -> None:
    entries = [entry("full/0", "03-full", [1.0, 1, 1, 1])] + \
        [entry(f"full/{i}", "03-full", [1.0, 0, 0, 0], sample=i) for i in range(1, 4)]
    p = pool([*entries, entry("full/9", "03-full", [0.0, 0, 0, 0], code=False)])
    strategy = get_strategy("random")
    full = strategy.outcome(p, None, 0)
    assert (full.points, full.low, full.high, full.submitted) == (100.0, 100.0, 100.0, 4)
    assert strategy.outcome(p, 10, 0).points == 100.0  # a budget over the pool: everything
    one = strategy.outcome(p, 1, 7)
    assert one == strategy.outcome(p, 1, 7)  # seeded
    assert one.submitted == 1 and (one.low, one.high) == (0.0, 100.0)
    # exact expectation: the solving sample is drawn with probability 1/4 (the no-code one is never drawn)
    assert 20.0 <= one.points <= 30.0
    assert sorted(set(one.draws)) == [0.0, 100.0]
    two = strategy.outcome(p, 2, 7)
    assert 45.0 <= two.points <= 55.0  # 1 - C(3,2)/C(4,2) = 1/2
    identical = pool([entry(f"full/{i}", "03-full", [1.0, 1, 0, 0], sample=i) for i in range(5)])
    same = strategy.outcome(identical, 2, 3)
    assert (same.points, same.low, same.high) == (20.0, 20.0, 20.0)


# -- open-r1's simulator, bug for bug (computed by hand from its code) ----------------------------------
def openr1_fixture() -> Pool:
    """Samples score 0.5 everywhere (so no pick adds index 0 to ``solved``); tokens decide the ranks.

    By hand, following ``simulate_round_robin`` (subtasks 00-samples, 01-a, 02-b, 03-full):
    solved = {"00-samples"}, exhausted = {} (every group has samples; the dropped ones are gone).
    i=3 "03-full": pick F1 (tokens 900) -> fractions 1.0 on 01-a, 02-b -> solved = {"00-samples", 1, 2};
    |exhausted | solved| = 3 < 4, go on. i=2 "02-b": "02-b" is not in solved (it holds the index 2: the bug),
    pick B1 -> group empty -> exhausted = {"02-b"}; |{"00-samples", 1, 2, "02-b"}| = 4: the round-robin stops
    (early: the indices count). Fill by (samples score, tokens, target index), highest first: F2 (800), A1 (300).
    So budget 1: [F1] = 50; budget 2: [F1, B1] = 50 (a fixed simulator skips 02-b and 01-a: [F1, F2] = 100);
    budget 3: [F1, B1, F2] = 100; budget 4: + A1 = 100.
    """
    return pool([
        entry("F1", "03-full", [0.5, 1, 1, 0], tokens=900),
        entry("F2", "03-full", [0.5, 0, 0, 1], tokens=800),
        entry("B1", "02-b", [0.5, 0, 1, 0], tokens=500),
        entry("A1", "01-a", [0.5, 1, 0, 0], tokens=300),
        entry("X", "01-a", [1.0, 1, 1, 1], tokens=10_000, compiled=False),  # CE on the samples subtask: dropped
        entry("Y", "02-b", [0.0, 0, 0, 0], tokens=10_000, code=False),       # no code: dropped
    ])


def test_openr1_reproduces_the_simulator_and_its_bug() -> None:
    p = openr1_fixture()
    assert [[e.key for e in simulate(p, cap)] for cap in (1, 2, 3, 4, 50)] == [
        ["F1"], ["F1", "B1"], ["F1", "B1", "F2"], ["F1", "B1", "F2", "A1"], ["F1", "B1", "F2", "A1"]]
    assert [points("openr1", p, b) for b in (1, 2, 3, None)] == [50.0, 50.0, 100.0, 100.0]
    assert points("ioi-eval", p, 2) == 100.0  # the same idea without the bug


def test_openr1_exact_one_marks_index_zero_and_ties_keep_the_run_order() -> None:
    # samples score 1.0: each pick adds index 0 too, so one pick solving 01-a stops the round-robin at once
    p = pool([entry("F1", "03-full", [1.0, 1, 0, 0], tokens=5), entry("F2", "03-full", [1.0, 0, 0, 1], tokens=5),
              entry("B1", "02-b", [1.0, 0, 1, 0], tokens=9), entry("A1", "01-a", [1.0, 1, 0, 0], tokens=1)])
    # i=3: F1 (tie with F2 kept in order) -> solved {"00-samples", 0, 1}: size 3; i=2: B1 -> {.., 2} and
    # exhausted {"02-b"}: 5 >= 4, stop; fill: F2 (tokens 5, target 3), A1.
    assert [e.key for e in simulate(p, 50)] == ["F1", "B1", "F2", "A1"]
    assert [e.key for e in simulate(p, 2)] == ["F1", "B1"]
