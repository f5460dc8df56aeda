"""Reward throughput: ``CodeReward`` (local backend) against a bare g++ + subprocess lower bound, in one run.

    python bench/bench_rewards.py [--quick] [--out bench/RESULTS.md]

Workload (issue 17): 256 completions in calls of 16 (one GRPO group: one prompt, 16 samples), against a problem of
20 tests given inline as open-r1's ``verification_info`` (sum of a list; time limit 0.25 s). The completions mix
correct answers (55 %), wrong ones (25 %: a wrong sum on some inputs), TLE (3 %: a busy loop) and answers without
code (the rest), in two shapes:

- **distinct**: every completion's code is different (a nonce comment), so nothing can be reused;
- **duplicates**: each group samples from a handful of programs, as a policy that has begun to agree with itself
  does (about 5 distinct programs per 16 samples).

Rows: ``partial`` (every test runs, on both sides) on both shapes, and ``binary`` (both sides stop at the first
failing test) on distinct code. ``CodeReward`` gets twice as many box workers as CPUs: verdicts are CPU time, so
oversubscribing hides the sandbox's latency without changing them (the bare loop, CPU-bound, gains nothing from
more threads). Both sides extract code with the same function and compile with the
judge's flags (``-O2 -static``). The programs include plain headers (``cstdio``, ``vector``): with
``bits/stdc++.h``, as most model code has it, the judge's precompiled header makes its compiles about 3x faster than
bare g++ and the comparison would measure that, not the harness (``--stdcpp`` runs that variant). The bare side compiles each completion
with ``g++`` and runs every test with ``subprocess`` (a wall-clock timeout, token comparison), 2 completions at a
time on 2 threads, with no sandbox and no cache. ``CodeReward`` runs everything in the sandbox with its box pool,
compile cache (fresh code per run: a nonce), deduplication and verdict memory. Goal: at least 0.8x the bare
throughput on distinct code, and better than bare with duplicates. Reference: open-r1 measured 3.4-4.1 rewards/s
for 256 samples on E2B.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "sandbox"))

from ioi_eval.judge.languages import CPP_FLAGS  # noqa: E402
from ioi_eval.rewards import CodeReward  # noqa: E402
from ioi_eval.run.extract import extract_code  # noqa: E402

TIME_LIMIT = 0.25
GROUP = 16

CORRECT = """#include <cstdio>
#include <vector>
using namespace std;
int main() {{ int n; scanf("%d", &n); long long s = 0; vector<long long> a(n);
  for (auto &x : a) {{ scanf("%lld", &x); s += x; }} printf("%lld\\n", s); }}
// {tag}
"""
WRONG = """#include <cstdio>
using namespace std;
int main() {{ int n; scanf("%d", &n); int s = 0; for (int i = 0; i < n; i++) {{ int x; scanf("%d", &x); s += x; }}
  printf("%d\\n", n > 5 ? s + 1 : s); }}
// {tag}
"""
TLE = """#include <cstdio>
int main() {{ volatile unsigned long long x = 0; for (;;) x++; }}
// {tag}
"""
KINDS = [("correct", CORRECT, 0.55), ("wrong", WRONG, 0.25), ("tle", TLE, 0.03), ("none", None, 0.17)]


def tests(n: int = 20) -> list[dict[str, str]]:
    rng = random.Random(17)
    out = []
    for i in range(n):
        k = 1 + i * 3 if i < 10 else rng.randint(50, 2000)
        xs = [rng.randint(-10**6, 10**6) for _ in range(k)]
        out.append({"input": f"{k}\n{' '.join(map(str, xs))}\n", "output": f"{sum(xs)}\n", "type": "stdin_stdout"})
    return out


def completion(kind: str, template: str | None, tag: str) -> str:
    if template is None:
        return "I think the answer is to add the numbers, but I ran out of time."
    return f"<think>sum them</think>\nHere is my solution.\n```cpp\n{template.format(tag=tag)}```\n"


def workload(n: int, duplicates: bool, nonce: str) -> list[str]:
    """``n`` completions in groups of 16; with ``duplicates`` each group draws from ~5 programs."""
    rng = random.Random(1700 + duplicates)
    kinds = [k for k, _, _ in KINDS]
    weights = [w for _, _, w in KINDS]
    templates = {k: t for k, t, _ in KINDS}
    out = []
    for g in range(n // GROUP):
        pool = [(k, f"{nonce} g{g} v{v}") for v, k in enumerate(rng.choices(kinds, weights, k=5))]
        for s in range(GROUP):
            if duplicates:
                kind, tag = rng.choices(pool, weights=[8, 4, 2, 1, 1])[0]
            else:
                kind, tag = rng.choices(kinds, weights)[0], f"{nonce} g{g} s{s}"
            out.append(completion(kind, templates[kind], tag))
    return out


# -- the bare lower bound -------------------------------------------------------------------------------------
def bare_one(text: str, cases: list[dict[str, str]], work: Path, stop_first: bool = False) -> float:
    ex = extract_code(text, "cpp")
    if not ex.ok or ex.code is None:
        return 0.0
    folder = Path(tempfile.mkdtemp(dir=work))
    src, exe = folder / "a.cpp", folder / "a"
    src.write_text(ex.code)
    if subprocess.run(["g++", *CPP_FLAGS, "-o", str(exe), str(src)], capture_output=True).returncode != 0:
        return 0.0
    passed = 0
    for case in cases:
        try:
            run = subprocess.run([str(exe)], input=case["input"].encode(), capture_output=True, timeout=TIME_LIMIT)
        except subprocess.TimeoutExpired:
            ok = False
        else:
            ok = run.returncode == 0 and run.stdout.split() == case["output"].encode().split()
        passed += ok
        if stop_first and not ok:
            return 0.0
    return passed / len(cases) if not stop_first else 1.0


def bare_call(texts: list[str], cases: list[dict[str, str]], work: Path, pool: ThreadPoolExecutor,
              stop_first: bool = False) -> list[float]:
    return list(pool.map(lambda t: bare_one(t, cases, work, stop_first), texts))


# -- measuring ------------------------------------------------------------------------------------------------
def measure(call, completions: list[str]) -> dict[str, float]:
    latencies, rewards = [], []
    start = time.perf_counter()
    for i in range(0, len(completions), GROUP):
        t0 = time.perf_counter()
        rewards += call(completions[i:i + GROUP])
        latencies.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    lat = sorted(latencies)
    return {"n": len(completions), "wall_s": wall, "rewards_per_s": len(completions) / wall,
            "p50_s": statistics.median(lat), "p99_s": lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))],
            "mean_reward": sum(r for r in rewards if r is not None) / len(rewards),
            "none": sum(r is None for r in rewards), "rewards": rewards}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="64 completions instead of 256")
    ap.add_argument("--out", type=Path, help="append a section to this Markdown file")
    ap.add_argument("--stdcpp", action="store_true", help="programs include bits/stdc++.h (as model code does)")
    args = ap.parse_args()
    n = 64 if args.quick else 256
    if args.stdcpp:
        for i, (kind, template, weight) in enumerate(KINDS):
            if template is not None:
                KINDS[i] = (kind, "#include <bits/stdc++.h>\n" + template, weight)
    cases = tests()
    info = {"language": "cpp", "test_cases": cases}
    nonce = f"run-{time.time_ns()}"
    results: dict[str, dict] = {}
    workers = 2 * (os.cpu_count() or 1)
    load = [os.getloadavg()[0]]
    rewards = {mode: CodeReward(None, mode=mode, inline_time_limit=TIME_LIMIT, fault_window=4096, workers=workers)
               for mode in ("partial", "binary")}
    for reward in rewards.values():  # box pool, page cache
        reward(completions=[completion("correct", KINDS[0][1], f"{nonce} warm-up")], verification_info=[info])
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(2) as pool:
        work = Path(tmp)
        bare_one(completion("correct", KINDS[0][1], f"{nonce} warm-up"), cases, work)
        for shape, mode in (("distinct", "partial"), ("distinct", "binary"), ("duplicates", "partial")):
            comps = workload(n, shape == "duplicates", f"{nonce} {mode}")
            distinct = len({c for c in comps if "```" in c})
            reward = rewards[mode]
            r = measure(lambda batch, rw=reward: rw(completions=batch, verification_info=[info] * len(batch)), comps)
            b = measure(lambda batch, first=mode == "binary": bare_call(batch, cases, work, pool, first), comps)
            agree = sum(x == y for x, y in zip(r.pop("rewards"), b.pop("rewards"), strict=True))
            results[f"{shape}, {mode}"] = {"code_reward": r, "bare": b, "distinct_code": distinct, "agree": agree,
                                           "ratio": r["rewards_per_s"] / b["rewards_per_s"], "goal": 1.0 if shape ==
                                           "duplicates" else 0.8}
            print(shape, mode, json.dumps(results[f"{shape}, {mode}"], indent=1), flush=True)
    for reward in rewards.values():
        reward.close()
    load.append(os.getloadavg()[0])
    print("load average (1 min) at start and end:", load)
    if args.out:
        write_section(args.out, results, n, args.stdcpp, workers, load)


def write_section(path: Path, results: dict, n: int, stdcpp: bool, workers: int, load: list[float]) -> None:
    lines = ["", "## Rewards for RL (issue 17): `CodeReward` against bare g++ + subprocess", "",
             f"Measured by `python bench/bench_rewards.py` on {os.cpu_count()} CPUs, kernel {platform.release()}, "
             f"{time.strftime('%Y-%m-%d %H:%M')}: {n} completions in calls of {GROUP}, 20 tests each (time limit "
             f"{TIME_LIMIT} s), 55 % correct / 25 % wrong / 3 % TLE / 17 % no code; programs include "
             + ("`bits/stdc++.h`" if stdcpp else "plain headers") + f". CodeReward: local backend, {workers} box "
             "workers; bare: 2 threads (4 measured no faster). `partial`: every test runs on both sides; `binary`: "
             "both stop at the first failing test. Same run; load average (1 min) "
             f"{load[0]:.1f} at the start, {load[-1]:.1f} at the end (a shared machine). "
             "Goal: >= 0.8x bare on distinct code, > 1x with duplicates.", "",
             "| workload, reward | distinct programs | CodeReward rewards/s | bare rewards/s | ratio | CodeReward p50 / p99 "
             "per call | bare p50 / p99 per call | same rewards | met |", "|---|---|---|---|---|---|---|---|---|"]
    for shape, res in results.items():
        r, b = res["code_reward"], res["bare"]
        goal = res["goal"]
        lines.append(f"| {shape} | {res['distinct_code']} | {r['rewards_per_s']:.1f} | {b['rewards_per_s']:.1f} | "
                     f"{res['ratio']:.2f}x | {r['p50_s']:.2f} s / {r['p99_s']:.2f} s | {b['p50_s']:.2f} s / "
                     f"{b['p99_s']:.2f} s | {res['agree']}/{r['n']} | {'yes' if res['ratio'] >= goal else 'no'} |")
    with path.open("a") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
