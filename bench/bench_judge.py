"""Benchmarks of the judge core, measured side by side in one run on this machine.

    python bench/bench_judge.py [--quick] [--out bench/RESULTS.md]
    python bench/bench_judge.py --end-to-end-only     # part 4 alone, as JSON

1. Sandbox overhead: a trivial static program through the full sandbox (executor + bubblewrap +
   cgroup) against a bare fork/exec of it (subprocess with the same stdin/stdout files).
2. CPU-time accuracy: a CPU-bound program's CPU time measured sandboxed against bare (rusage).
3. Compile: plain g++ against the judge's cold compile (precompiled bits/stdc++.h) and warm
   compile (cache hit), for a typical solution.
4. End to end: judging every reference solution of the bundled problems, wall time against the
   sum of compile and run CPU time divided by the workers.

Targets (issue 2): overhead <= 10 ms/run; CPU time within 5 %; end-to-end wall <= 1.3x.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ioi_box.executor import Executor  # noqa: E402
from ioi_box.protocol import Batch, Limits, Proc, RunJob  # noqa: E402

TRIVIAL = "int main(){return 0;}\n"
BURN = r"""
#include <cstdio>
int main(){ volatile unsigned long long x = 0; for (unsigned long long i = 0; i < 1500000000ULL; i++) x += i;
  printf("%llu\n", (unsigned long long)x); }
"""
TYPICAL = r"""
#include <bits/stdc++.h>
using namespace std;
int main() {
    int n, q; scanf("%d %d", &n, &q);
    vector<long long> a(n + 1);
    for (int i = 1; i <= n; i++) { long long x; scanf("%lld", &x); a[i] = a[i - 1] + x; }
    map<int, int> seen; set<long long> s; priority_queue<int> pq;
    while (q--) { int l, r; scanf("%d %d", &l, &r); printf("%lld\n", a[r] - a[l - 1]); seen[l]++; }
    return 0;
}
"""


def _gxx(src: str, out: Path, extra: list[str] | None = None) -> float:
    s = out.with_suffix(".cpp")
    s.write_text(src)
    t0 = time.perf_counter()
    subprocess.run(["g++", "-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-static", "-s", *(extra or []), "-o", str(out),
                    str(s)], check=True)
    return time.perf_counter() - t0


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def bench_overhead(tmp: Path, runs: int) -> dict:
    exe = tmp / "trivial"
    _gxx(TRIVIAL, exe)
    inp, out = tmp / "in.txt", tmp / "out.txt"
    inp.write_text("1 2\n")
    with Executor(workers=1) as ex:
        blob = ex.put_file(exe, executable=True)
        iblob = ex.put_bytes(b"1 2\n")
        work = ex.new_dir()
        job = Batch(jobs=[RunJob(procs=[Proc(argv=["/box/prog"], binds={"/box/prog": blob}, stdin=iblob,
                                            stdout=f"{work}/out", limits=Limits(cpu_s=1, wall_s=3,
                                                                                memory_bytes=256 << 20))])])
        for _ in range(5):  # warm up both paths
            ex.execute(job)
            with inp.open() as i, out.open("w") as o:
                subprocess.run([str(exe)], stdin=i, stdout=o, check=True)
        bare, boxed = [], []
        for _ in range(runs):  # interleaved so machine noise hits both alike
            t0 = time.perf_counter()
            with inp.open() as i, out.open("w") as o:
                subprocess.run([str(exe)], stdin=i, stdout=o, check=True)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            res = ex.execute(job)
            boxed.append(time.perf_counter() - t0)
            assert res.results[0].procs[0].status.value == "OK", res
    b, s = statistics.median(bare) * 1000, statistics.median(boxed) * 1000
    return {"bare_ms": round(b, 2), "sandboxed_ms": round(s, 2), "overhead_ms": round(s - b, 2),
            "isolation": ex.isolation_note, "runs": runs, "target_ms": 10, "ok": s - b <= 10}


def bench_cpu_accuracy(tmp: Path, repeats: int) -> dict:
    exe = tmp / "burn"
    _gxx(BURN, exe)
    bare, boxed = [], []
    with Executor(workers=1) as ex:
        blob = ex.put_file(exe, executable=True)
        work = ex.new_dir()
        job = Batch(jobs=[RunJob(procs=[Proc(argv=["/box/prog"], binds={"/box/prog": blob}, stdout=f"{work}/o",
                                            limits=Limits(cpu_s=30, wall_s=60, memory_bytes=256 << 20))])])
        for _ in range(repeats):
            before = _children_cpu()
            subprocess.run([str(exe)], stdout=subprocess.DEVNULL, check=True)
            bare.append(_children_cpu() - before)
            boxed.append(ex.execute(job).results[0].procs[0].cpu_s)
    b, s = statistics.median(bare), statistics.median(boxed)
    err = abs(s - b) / b * 100
    return {"bare_cpu_s": round(b, 4), "sandboxed_cpu_s": round(s, 4), "error_pct": round(err, 2),
            "repeats": repeats, "target_pct": 5, "ok": err <= 5}


def bench_compile(tmp: Path) -> dict:
    from ioi_eval.backends.local import LocalBackend
    from ioi_eval.judge.compiler import Compiler, CompileUnit
    from ioi_eval.judge.languages import CPP_FLAGS

    plain = statistics.median(_gxx(TYPICAL, tmp / f"plain{i}") for i in range(3))
    cache = tmp / "cache"
    box = LocalBackend().open(1)  # a box that describes its toolchain, as the compiler needs
    try:
        comp = Compiler(box, cache_dir=cache)
        t0 = time.perf_counter()
        comp._pch(comp_lang(), CPP_FLAGS)  # building the PCH is a one-off per compiler version
        pch_build = time.perf_counter() - t0
        colds, warms = [], []
        for i in range(3):
            unit = CompileUnit(language="cpp", files=(("sol.cpp", (TYPICAL + f"// {i}\n").encode()),),
                               compiled=("sol.cpp",), main="sol.cpp", flags=CPP_FLAGS)
            t0 = time.perf_counter()
            res, _ = comp.compile(unit)
            colds.append(time.perf_counter() - t0)
            assert res.ok and not res.cached, res
            t0 = time.perf_counter()
            res, _ = comp.compile(unit)
            warms.append(time.perf_counter() - t0)
            assert res.cached
    finally:
        box.close()
    cold, warm = statistics.median(colds), statistics.median(warms)
    return {"plain_gxx_s": round(plain, 3), "cold_sandboxed_pch_s": round(cold, 3), "warm_cache_hit_s": round(warm, 4),
            "pch_one_off_build_s": round(pch_build, 2), "cold_speedup": round(plain / cold, 2)}


def comp_lang():
    from ioi_eval.judge.languages import get_language

    return get_language("cpp")


def bench_end_to_end(workers: int, problems: list[str] | None) -> dict:
    from ioi_eval.judge.judge import Judge
    from ioi_eval.judge.submission import Submission
    from ioi_eval.judge.task_types import TASK_TYPES
    from ioi_eval.sources.loader import discover, load_problem

    roots = discover(REPO / "problems")
    if problems:
        roots = [r for r in roots if r.name in problems]
    with tempfile.TemporaryDirectory() as cache:
        judge = Judge(workers=workers, cache_dir=Path(cache))
        # Package programs (checkers, managers) are compiled before timing: a one-off per problem.
        loaded = [load_problem(r) for r in roots]
        for p in loaded:
            judge._state(p)
        compile_cpu = run_cpu = 0.0
        n_subs = n_tests = 0
        box_cpu_before = getattr(judge.box, "cpu_s_total", 0.0)
        self_before, children_before = _self_cpu(), _children_cpu()
        t0 = time.perf_counter()
        items = [(p, Submission.from_path(sol.path, TASK_TYPES[p.task_type].takes_code)) for p in loaded for sol in p.solutions]
        for rep in judge.judge_many(items):
            compile_cpu += rep.compile.cpu_s
            run_cpu += sum(t.cpu_s for t in rep.tests)
            n_subs += 1
            n_tests += sum(1 for t in rep.tests if t.verdict.value != "SKIPPED")
        wall = time.perf_counter() - t0
        harness_cpu = _self_cpu() - self_before
        children_cpu = _children_cpu() - children_before
        box_cpu = getattr(judge.box, "cpu_s_total", 0.0) - box_cpu_before
        judge.close()
    ideal = (compile_cpu + run_cpu) / workers
    # Everything sandboxed: also the checkers and Communication managers that judging runs.
    ideal_all = box_cpu / workers
    return {"workers": workers, "submissions": n_subs, "tests_run": n_tests, "wall_s": round(wall, 2),
            "compile_cpu_s": round(compile_cpu, 2), "run_cpu_s": round(run_cpu, 2),
            "ideal_wall_s": round(ideal, 2), "ratio": round(wall / ideal, 3), "target_ratio": 1.3,
            "ok": wall / ideal <= 1.3, "all_sandboxed_cpu_s": round(box_cpu, 2),
            "ratio_all_sandboxed": round(wall / ideal_all, 3) if ideal_all else None,
            **_slot_budget(workers, wall, box_cpu, harness_cpu, children_cpu)}


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _slot_budget(workers: int, wall: float, box_cpu: float, harness_cpu: float, children_cpu: float) -> dict:
    """Where the end-to-end run's worker-seconds (``workers * wall``) went, for a judge in this process.

    ``box`` is the CPU counted inside the boxes (compiles, runs, checkers, managers); ``harness`` this process's own
    CPU (the judge's Python, and the launcher's in-process work: clone, namespace and cgroup set-up, waiting); the
    ``launcher children`` CPU is what the sandboxed processes' ancestors (the launcher's child before the exec, the
    box's init) spent outside the box's count; ``rest`` is neither: a worker idle (between runs, the batch's tail,
    I/O waits) or the machine's other load. With as many workers as CPUs, every part but ``box`` is the gap."""
    slots = workers * wall
    outside = max(0.0, children_cpu - box_cpu)
    return {"slot_s": round(slots, 2), "harness_cpu_s": round(harness_cpu, 2),
            "launcher_children_cpu_s": round(outside, 2),
            "idle_or_other_load_s": round(slots - box_cpu - harness_cpu - outside, 2),
            "load_avg_1min": round(os.getloadavg()[0], 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--problems", nargs="*", help="limit the end-to-end part to these problem codes")
    ap.add_argument("--end-to-end-only", action="store_true",
                    help="only the end-to-end part, printed as JSON (no report written): for A/B runs")
    args = ap.parse_args()
    if args.end_to_end_only:
        print(json.dumps(bench_end_to_end(args.workers, args.problems)))
        return
    results = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.chmod(tmp, 0o755)
        print("overhead ...", flush=True)
        results["overhead"] = bench_overhead(tmp, 30 if args.quick else 200)
        print(results["overhead"], "\ncpu accuracy ...", flush=True)
        results["cpu_accuracy"] = bench_cpu_accuracy(tmp, 2 if args.quick else 5)
        print(results["cpu_accuracy"], "\ncompile ...", flush=True)
        results["compile"] = bench_compile(tmp)
        print(results["compile"], "\nend to end ...", flush=True)
    results["end_to_end"] = bench_end_to_end(args.workers, args.problems)
    print(results["end_to_end"])
    results["machine"] = {"cpus": os.cpu_count(), "kernel": os.uname().release,
                          "date": time.strftime("%Y-%m-%d %H:%M:%S")}
    write_report(results, args.out)


def write_report(r: dict, out: Path) -> None:
    o, c, k, e = r["overhead"], r["cpu_accuracy"], r["compile"], r["end_to_end"]
    text = f"""# Benchmark results (judge core)

Measured by `python bench/bench_judge.py` on {r['machine']['cpus']} CPUs, kernel {r['machine']['kernel']},
{r['machine']['date']}. All figures in one run, side by side; raw numbers in `RESULTS.json`.

| what | measured | target | met |
|---|---|---|---|
| sandbox overhead per run (median of {o['runs']}) | {o['overhead_ms']} ms ({o['sandboxed_ms']} ms sandboxed vs {o['bare_ms']} ms bare fork/exec; {o['isolation']}) | <= {o['target_ms']} ms | {'yes' if o['ok'] else 'NO'} |
| CPU-time accuracy (median of {c['repeats']}) | {c['error_pct']} % ({c['sandboxed_cpu_s']} s sandboxed vs {c['bare_cpu_s']} s bare) | <= {c['target_pct']} % | {'yes' if c['ok'] else 'NO'} |
| compile, typical solution | plain g++ {k['plain_gxx_s']} s; judge cold (sandboxed, PCH) {k['cold_sandboxed_pch_s']} s ({k['cold_speedup']}x faster); warm (cache hit) {k['warm_cache_hit_s']} s; one-off PCH build {k['pch_one_off_build_s']} s | | |
| end to end, counting every sandboxed process (checkers and managers too) | wall {e['wall_s']} s vs {e['all_sandboxed_cpu_s']} s CPU / {e['workers']}: ratio {e['ratio_all_sandboxed']} | | |
| end to end, where the {e['workers']} workers' {e['slot_s']} s went | {e['all_sandboxed_cpu_s']} s CPU in the boxes; {e['harness_cpu_s']} s the judge process's own CPU (Python and the in-process launcher); {e['launcher_children_cpu_s']} s the launcher's children outside the boxes; {e['idle_or_other_load_s']} s neither (idle workers, the batch's tail, other load: 1-min load {e['load_avg_1min']}) | | |
| end to end: {e['submissions']} reference solutions of the bundled problems, {e['tests_run']} tests run, {e['workers']} workers | wall {e['wall_s']} s vs (compile {e['compile_cpu_s']} s + run {e['run_cpu_s']} s CPU) / {e['workers']} = {e['ideal_wall_s']} s: ratio {e['ratio']} | <= {e['target_ratio']} | {'yes' if e['ok'] else 'NO'} |
"""
    out.write_text(text)
    out.with_suffix(".json").write_text(json.dumps(r, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
