"""``cluster``: AlphaCode-style clustering of samples by behaviour on inputs without expected outputs.

The samples that compile and pass the samples subtask are run on a set of extra inputs (the inputs the
model's own generator made with ``ioi-eval run --generate-inputs N``; without them, the sample inputs, and
the outcome says so). Samples whose outcomes agree on every input form a cluster. Within each target subtask
(whole-problem prompts: one group), clusters are ranked by size (largest first), ties by their best member;
the group's submission order takes the best member of each cluster in turn, then the second of each, and so
on. The groups are visited round-robin from the hardest subtask down, as ``ioi-eval``'s default does (a
subtask solved by an earlier submission is skipped: IOI's feedback shows it); slots left are filled with
what remains, first ranks first.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from ..scoring.selection import Candidate, round_robin
from .base import Entry, Information, Outcome, Pool


def _rank(e: Entry) -> tuple[float, int, int, str]:
    c = e.candidate
    return (-(c.samples_score or 0.0), -c.length, c.sample, c.key)


class Cluster:
    """Submit from the largest behaviour clusters first, round-robin over them and over subtasks."""

    name: ClassVar[str] = "cluster"
    information: ClassVar[Information] = "public"
    summary: ClassVar[str] = ("filter on the samples, cluster by outputs on generated inputs, "
                              "largest clusters first (AlphaCode)")
    needs_behaviour: ClassVar[bool] = True

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """The score of the submissions made from the clusters."""
        chosen = submission_order(pool, len(pool.entries) if budget is None else budget)
        return Outcome(points=pool.score(chosen), submitted=len(chosen), note=pool.inputs_note)


def clusters(pool: Pool, entries: list[Entry]) -> list[list[Entry]]:
    """``entries`` grouped by identical behaviour, largest cluster first (ties: the best member's rank).

    An entry without a recorded behaviour stays alone (nothing says it agrees with another).
    """
    groups: dict[object, list[Entry]] = {}
    for e in sorted(entries, key=_rank):
        signature = pool.behaviour.get(e.key)
        groups.setdefault(signature if signature is not None else ("alone", e.key), []).append(e)
    return sorted(groups.values(), key=lambda members: (-len(members), _rank(members[0])))


def interleave(ranked: list[list[Entry]]) -> list[Entry]:
    """The best member of each cluster in turn, then the second of each, and so on."""
    out: list[Entry] = []
    depth = 0
    while True:
        layer = [members[depth] for members in ranked if depth < len(members)]
        if not layer:
            return out
        out += layer
        depth += 1


def submission_order(pool: Pool, cap: int) -> list[Candidate]:
    """The candidates submitted (at most ``cap``), in order."""
    if cap <= 0:
        return []
    index = {name: i for i, name in enumerate(pool.names)}
    survivors = [e for e in pool.entries if pool.passes_samples(e)]
    by_group: dict[int | None, list[Entry]] = {}
    for e in survivors:
        t = e.candidate.target_subtask
        by_group.setdefault(None if t is None else index[t], []).append(e)
    queues = {g: deque(e.candidate for e in interleave(clusters(pool, members))) for g, members in by_group.items()}
    selected, order = round_robin(queues, pool.points, cap)
    rest = sorted(((pos, order.index(g), c) for g, q in queues.items() for pos, c in enumerate(q)),
                  key=lambda t: (t[0], t[1]))
    selected += [c for _, _, c in rest[: cap - len(selected)]]
    return selected
