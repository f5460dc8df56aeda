"""``openr1``: open-r1's selection simulator, bug for bug (``huggingface/ioi`` ``run_tests/selection_simulator.py``).

Reproduced so that a run can be compared with the figures open-r1 published; ``ioi-eval`` is the same idea
without the bug. The simulator:

1. drops samples without code or whose first subtask (open-r1 assumes it is the samples one) is a CE;
2. groups the rest by target subtask and sorts each group by (first subtask's score, CoT length), highest
   first (a stable sort: ties keep the run's order); CoT length is the completion's token count, else the
   length of the generation;
3. starts with ``solved = {first subtask's name}`` and ``exhausted`` = the subtasks without samples, then
   visits the subtasks round-robin from the last down, taking the best remaining sample of each subtask not
   solved and not exhausted; after each pick it adds the *index* of every subtask the pick scores exactly 1.0
   on to ``solved``, and stops at the budget or when ``len(exhausted | solved) >= number of subtasks``;
4. fills the slots left with the remaining samples sorted by (first subtask's score, CoT length, index of the
   target subtask), highest first.

The bug: ``solved`` holds names and indices mixed, and is checked by name, so a solved subtask is never
skipped; but each index added still counts in the stop test, so the round-robin can also stop early and leave
the rest to the global fill. A whole-problem prompt (no target subtask; open-r1 has none) counts as targeting
the last subtask.
"""

from __future__ import annotations

from collections import deque
from typing import ClassVar

from .base import Entry, Information, Outcome, Pool


class OpenR1:
    """open-r1's simulator with its ``solved_subtasks`` bug, for comparison with published figures."""

    name: ClassVar[str] = "openr1"
    information: ClassVar[Information] = "public"
    summary: ClassVar[str] = "open-r1's selection simulator, bug for bug (solved subtasks are never skipped)"
    needs_behaviour: ClassVar[bool] = False

    def outcome(self, pool: Pool, budget: int | None, seed: int) -> Outcome:
        """The score of the submissions the simulator makes (``budget`` replaces its 50)."""
        chosen = simulate(pool, len(pool.entries) if budget is None else budget)
        return Outcome(points=pool.score([e.candidate for e in chosen]), submitted=len(chosen))


def cot_length(entry: Entry) -> int:
    """open-r1's ``get_submission_cot_length``: output tokens when known, else the generation's length."""
    return entry.tokens if entry.tokens is not None else entry.generation_chars


def simulate(pool: Pool, cap: int) -> list[Entry]:
    """The entries open-r1's ``simulate_round_robin`` submits, in order (its statements, one by one)."""
    subtasks = pool.names
    if not pool.entries or not subtasks:
        return []
    target = {e.key: e.candidate.target_subtask or subtasks[-1] for e in pool.entries}
    by_target: dict[str, list[Entry]] = {s: [] for s in subtasks}
    for e in pool.entries:
        if not e.candidate.has_code or not e.candidate.compiled:  # no code, or subtask 0's status is CE
            continue
        by_target[target[e.key]].append(e)
    queues = {s: deque(sorted(group, key=lambda e: (e.fractions[0], cot_length(e)), reverse=True))
              for s, group in by_target.items()}
    exhausted: set[object] = {s for s in queues if not queues[s]}
    solved: set[object] = {subtasks[0]}  # names; indices are added below (the bug)
    selected: list[Entry] = []
    i = len(subtasks) - 1
    while len(selected) < cap and len(exhausted | solved) < len(subtasks):
        subtask = subtasks[i]
        if subtask not in solved and subtask not in exhausted:
            sol = queues[subtask].popleft()
            selected.append(sol)
            for j, fraction in enumerate(sol.fractions):
                if fraction == 1.0:
                    solved.add(j)
            if not queues[subtask]:
                exhausted.add(subtask)
        i = (i - 1) % len(subtasks)
    remaining = deque(sorted((e for q in queues.values() for e in q),
                             key=lambda e: (e.fractions[0], cot_length(e), subtasks.index(target[e.key])),
                             reverse=True))
    while len(selected) < cap and remaining:
        selected.append(remaining.popleft())
    return selected
