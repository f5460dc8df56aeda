"""The extra sandbox time of ``ioi-eval select --strategy cluster`` against the judging time of the run itself.

    python bench/bench_select.py [--samples 50,200] [--inputs 10] [--workers N]

For each number of samples per subtask, one replayed run (``ioi-eval run --engine replay --generate-inputs N``)
of two bundled Batch problems (rainfall: exact output; pairsum: a checker) whose samples cycle through the
packages' own solutions (correct, wrong, runtime error, memory limit), and whose input generator is a small
C++ program. It times, side by side in one process tree on this machine:

* the run: generation is a replay (instant), so its wall time is extraction + judging of every sample;
* ``select --strategy cluster``: the generator on seeds 1..N and every sample that passes the examples on every
  generated input (the sandbox runs of clustering), per problem from ``select.json``'s counts;
* a second ``select``: everything comes from the run store (no sandbox run).

Identical sources hit the compile cache, in the run and in ``select`` alike: a real run compiles every sample,
so its judging time, and the ratio's denominator, is larger than here (the ratio here is an upper bound).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROBLEMS = REPO / "problems"
MIX = {
    "rainfall": ["model_solution/rainfall.cpp", "correct/rainfall_fenwick.cpp", "incorrect/rainfall_int.cpp",
                 "runtime_error/rainfall_fixed.cpp", "memory_limit/rainfall_table.cpp"],
    "pairsum": ["model_solution/pairsum.cpp", "correct/pairsum_hash.cpp", "incorrect/pairsum_same_index.cpp",
                "incorrect/pairsum_garbage.cpp"],
}
GENERATORS = {
    "rainfall": r"""#include <cstdio>
#include <cstdlib>
#include <random>
int main(int argc, char** argv) {
    std::mt19937 rng(atoi(argv[1]));
    int n = 1 + rng() % 200, q = 1 + rng() % 200;
    printf("%d %d\n", n, q);
    for (int i = 0; i < n; i++) printf("%u%c", (unsigned)(rng() % 1000000001u), i + 1 < n ? ' ' : '\n');
    for (int k = 0; k < q; k++) { int l = 1 + rng() % n; printf("%d %d\n", l, l + (int)(rng() % (n - l + 1))); }
}
""",
    "pairsum": r"""#include <cstdio>
#include <cstdlib>
#include <random>
int main(int argc, char** argv) {
    std::mt19937 rng(atoi(argv[1]));
    int n = 1 + rng() % 300; unsigned top = 1 + rng() % 1000000000u;
    printf("%d %u\n", n, (unsigned)(rng() % (2 * top + 1)));
    for (int i = 0; i < n; i++) printf("%u%c", (unsigned)(rng() % (top + 1)), i + 1 < n ? ' ' : '\n');
}
""",
}


def _fence(code: str) -> str:
    return f"```cpp\n{code}\n```\n"


def _replay(path: Path, samples: int) -> dict[str, int]:
    """The replay file: ``samples`` per scored subtask per problem; returns samples per problem."""
    sys.path.insert(0, str(REPO))
    from ioi_eval.sources.loader import load_problem

    rows, counts = [], {}
    for code, files in MIX.items():
        problem = load_problem(PROBLEMS / code)
        sources = [(PROBLEMS / code / "solutions" / f).read_text() for f in files]
        scored = [st.name for st in problem.subtasks if st.points > 0]
        for st in scored:
            for i in range(samples):
                rows.append({"key": f"{code}/{st}/{i}", "text": _fence(sources[i % len(sources)])})
        rows.append({"key": f"{code}/#input-generator/0", "text": _fence(GENERATORS[code])})
        counts[code] = samples * len(scored)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return counts


def _cli(*args: str, cwd: Path) -> tuple[float, str]:
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": f"{REPO}:{REPO / 'sandbox'}"})
    took = time.perf_counter() - start
    if res.returncode != 0:
        sys.exit(f"{' '.join(args[:2])} failed: {res.stderr[-2000:]}")
    return took, res.stdout


def _judging_seconds(run_dir: Path) -> dict[str, float]:
    """Per problem: the sum of the wall time of every test and compile the run's judge reports record."""
    import sqlite3

    out: dict[str, float] = {}
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        for key, report in db.execute("SELECT key, report FROM submissions WHERE report IS NOT NULL"):
            r = json.loads(report)
            out[key.split("/")[0]] = out.get(key.split("/")[0], 0.0) + sum(t["wall_s"] for t in r["tests"])
    return out


def _extra_seconds(run_dir: Path) -> dict[str, tuple[float, int]]:
    """Per problem: the wall time and count of the extra runs ``select`` recorded (samples on generated inputs)."""
    import sqlite3

    out: dict[str, tuple[float, int]] = {}
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        for key, wall in db.execute("SELECT key, wall_s FROM extra_runs"):
            s, n = out.get(key.split("/")[0], (0.0, 0))
            out[key.split("/")[0]] = (s + wall, n + 1)
    return out


def bench(samples: int, inputs: int, workers: int | None, tmp: Path) -> dict:
    """One run with ``samples`` per subtask: run, select, select again."""
    src = tmp / f"replay-{samples}.jsonl"
    counts = _replay(src, samples)
    run_dir = tmp / f"run-{samples}"
    extra = ["--workers", str(workers)] if workers else []
    run_s, _ = _cli("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only",
                    "rainfall", "--only", "pairsum", "--samples", str(samples), "--generate-inputs", str(inputs),
                    "--run-dir", str(run_dir), "--json", *extra, cwd=tmp)
    select_s, out = _cli("select", str(run_dir), "--strategy", "cluster", "--budget", "50", "--json", *extra, cwd=tmp)
    work = json.loads(out)["runs"][0]["work"]
    again_s, out2 = _cli("select", str(run_dir), "--strategy", "cluster", "--budget", "50", "--json", *extra, cwd=tmp)
    assert json.loads(out2)["runs"][0]["work"]["runs"] == 0
    judging, extra_runs = _judging_seconds(run_dir), _extra_seconds(run_dir)
    per_problem = {code: {"samples": counts[code], "judging_test_s": round(judging.get(code, 0.0), 2),
                          "extra_runs": extra_runs.get(code, (0.0, 0))[1],
                          "extra_run_s": round(extra_runs.get(code, (0.0, 0))[0], 2),
                          "ratio": round(extra_runs.get(code, (0.0, 0))[0] / judging[code], 3) if judging.get(code)
                          else None} for code in counts}
    return {"samples_per_subtask": samples, "inputs": inputs, "run_wall_s": round(run_s, 1),
            "select_wall_s": round(select_s, 1), "select_again_wall_s": round(again_s, 2),
            "wall_ratio": round(select_s / run_s, 3), "sandbox_runs": work["runs"],
            "generator_runs": work["generator_runs"], "problems": per_problem}


def main() -> None:
    """Run the benchmark and print its table (Markdown) and JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", default="50,200")
    parser.add_argument("--inputs", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-select-") as tmp:
        for n in (int(x) for x in args.samples.split(",")):
            results.append(bench(n, args.inputs, args.workers, Path(tmp)))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    print(f"| samples per subtask | run wall (judging) | select cluster wall | ratio | second select | "
          f"per problem: extra sandbox s / judging test s ({args.inputs} inputs) |")
    print("|---|---|---|---|---|---|")
    for r in results:
        per = "; ".join(f"{c}: {p['extra_run_s']:g} / {p['judging_test_s']:g} = {p['ratio']:g} "
                        f"({p['samples']} samples, {p['extra_runs']} runs)" for c, p in r["problems"].items())
        print(f"| {r['samples_per_subtask']} | {r['run_wall_s']:g} s | {r['select_wall_s']:g} s | "
              f"{r['wall_ratio']:g} | {r['select_again_wall_s']:g} s | {per} |")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
