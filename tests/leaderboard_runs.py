"""Runs for the leaderboard tests: two replayed "models" on rainfall and pairsum with varied verdicts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import PROBLEMS


def _src(problem: str, rel: str) -> str:
    return (PROBLEMS / problem / "solutions" / rel).read_text()


def _fence(code: str) -> str:
    return f"My solution:\n```cpp\n{code}\n```\n"


SOLUTIONS = {
    "ok": ("rainfall", "model_solution/rainfall.cpp"), "wa": ("rainfall", "incorrect/rainfall_int.cpp"),
    "re": ("rainfall", "runtime_error/rainfall_fixed.cpp"), "mle": ("rainfall", "memory_limit/rainfall_table.cpp"),
    "tle": ("rainfall", "time_limit/rainfall_naive.cpp"),
    "p_ok": ("pairsum", "model_solution/pairsum.cpp"), "p_wa": ("pairsum", "incorrect/pairsum_same_index.cpp"),
    "p_bad": ("pairsum", "incorrect/pairsum_garbage.cpp"),
}
RAINFALL = ("01-small", "02-medium", "03-small-values", "04-full")
PAIRSUM = ("01-small", "02-pair-exists", "03-full")

#: Per model, per problem, per target subtask: the answers of samples 0, 1, 2 ("nc": prose only,
#: "ce": code that does not compile, None: missing from the replay, a failed generation).
MODELS = {
    "strong-model": {
        "rainfall": {"01-small": ["ok", "wa", "ok"], "02-medium": ["ok", "re", "ok"],
                     "03-small-values": ["ok", "nc", "wa"], "04-full": ["ok", "ce", "ok"]},
        "pairsum": {"01-small": ["p_ok", "p_wa", "p_ok"], "02-pair-exists": ["p_ok", "p_ok", "p_bad"],
                    "03-full": ["p_ok", "p_wa", "p_ok"]},
    },
    "weak-model": {
        "rainfall": {"01-small": ["wa", "re", "nc"], "02-medium": ["re", "mle", "ce"],
                     "03-small-values": ["wa", "ce", "wa"], "04-full": ["tle", None, "nc"]},
        "pairsum": {"01-small": ["p_wa", "p_bad", "ce"], "02-pair-exists": ["p_wa", "nc", "p_wa"],
                    "03-full": ["p_bad", "p_wa", "ok"]},
    },
}


def _answer(kind: str) -> str:
    if kind == "nc":
        return "I am not sure how to solve this."
    if kind == "ce":
        return _fence("int main( { return 0 }")
    return _fence(_src(*SOLUTIONS[kind]))


def write_replay(path: Path, plan: dict[str, dict[str, list[str | None]]]) -> Path:
    """A replay JSONL holding the plan's completions."""
    rows = [{"key": f"{problem}/{subtask}/{i}", "text": _answer(kind)}
            for problem, subtasks in plan.items() for subtask, kinds in subtasks.items()
            for i, kind in enumerate(kinds) if kind is not None]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def make_run(root: Path, name: str, samples: int = 3) -> Path:
    """Replay one of :data:`MODELS` through ``ioi-eval run``; returns the run folder."""
    src = write_replay(root / f"{name}.jsonl", MODELS[name])
    run_dir = root / "runs" / name
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "run", "--model", str(src), "--engine", "replay",
                          "--problems", str(PROBLEMS), "--only", "rainfall", "--only", "pairsum",
                          "--samples", str(samples), "--run-dir", str(run_dir), "--json"],
                         cwd=root, capture_output=True, text=True, timeout=900, env={**os.environ, "COLUMNS": "200"})
    if res.returncode != 0:
        raise RuntimeError(f"ioi-eval run failed ({res.returncode}):\n{res.stderr}")
    return run_dir


def contests_file(path: Path, gold: float, silver: float, bronze: float) -> Path:
    """A contests file whose one contest is rainfall + pairsum, with these cutoffs."""
    path.write_text(json.dumps({"bundled": {"name": "Bundled Open", "problems": ["rainfall", "pairsum"],
                                            "max_score": 200,
                                            "cutoffs": {"gold": gold, "silver": silver, "bronze": bronze}}}))
    return path
