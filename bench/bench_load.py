"""Time verdicts that do not depend on the machine's load (issue 11, part 3), measured in one run.

    python bench/bench_load.py [--quick] [--backend local|docker] [--out bench/RESULTS.md]

Validates every bundled package (problems/: every reference solution judged and checked against its
category and expected.json) plus a package of near-limit solutions (TL 1 s; CPU time about 0.8*TL, and a
sleeper and a spinner that must stay TLE) three ways, each harness a process of its own:

1. idle: one harness on a quiet machine (after a warm-up run that fills the shared compile cache);
2. load: one harness beside 4x the cores of busy loops, each in a session (an autogroup) of its own;
3. two harnesses at once: two harnesses validating everything at the same time.

Reports verdict agreement with the idle run (goal: 100 %): per solution (score and category check) and per
test (verdict, over the tests both runs judged: skipping after a zero depends on which test finished first),
and how many tests were re-run after a wall-clock limit. ``--quick`` uses the near-limit package and two
bundled packages only.
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

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TL = 1.0
ANSWER = 'long long a,b; if(scanf("%lld %lld",&a,&b)!=2) return 1; printf("%lld\\n",a+b);'
SPIN_CPU = ("#include <cstdio>\n#include <ctime>\nint main(){{volatile unsigned long x=0;"
            "while((double)clock()/CLOCKS_PER_SEC<{cpu}) x++; " + ANSWER + "}}\n")
NEAR_LIMIT = {
    # name: (source, category)
    "correct/cpu_0_8.cpp": (SPIN_CPU.format(cpu=0.8 * TL), "correct"),
    "correct/cpu_0_7.cpp": (SPIN_CPU.format(cpu=0.7 * TL), "correct"),
    "correct/threads_0_8.cpp": (
        "#include <cstdio>\n#include <ctime>\n#include <thread>\n"
        "static void burn(double s){timespec t; volatile unsigned long x=0; for(;;){"
        "clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t); if(t.tv_sec+t.tv_nsec*1e-9>=s) break; x++;}}\n"
        f"int main(){{std::thread t(burn,{0.4 * TL}); burn({0.4 * TL}); t.join(); " + ANSWER + "}\n", "correct"),
    "time_limit/cpu_1_5.cpp": (SPIN_CPU.format(cpu=1.5 * TL), "time_limit"),
    "time_limit/sleeper.cpp": ("#include <unistd.h>\nint main(){sleep(100);}\n", "time_limit"),
}


def near_limit_package(root: Path) -> Path:
    """A Batch package (TL 1 s) with two tests and the near-limit solutions above."""
    from ioi_eval.problem.writer import write_plain_package

    files = {f"solutions/{name}": src for name, (src, _) in NEAR_LIMIT.items()}
    files["solutions/model_solution/sum.cpp"] = f"#include <cstdio>\nint main(){{{ANSWER}}}\n"
    return write_plain_package(
        root / "nearlimit",
        problem={"code": "nearlimit", "name": "Near the limit", "time_limit": TL, "memory_limit": 256 << 20,
                 "task_type": "Batch"},
        subtasks={"01-all": {"score": 100, "testcases": ["1-01", "1-02"]}},
        tests={"1-01": ("5 6\n", "11\n"), "1-02": ("-7 3\n", "-4\n")},
        files=files)


# -- one harness (a process of its own) --------------------------------------------------------------

def worker(packages: list[Path], out: Path, backend: str = "local") -> None:
    """Validate ``packages`` with one judge on ``backend``; write every solution's outcome to ``out`` (JSON)."""
    from ioi_eval.judge.judge import Judge
    from ioi_eval.judge.task_types.base import RERUN_NOTE
    from ioi_eval.judge.validate import validate_problem
    from ioi_eval.sources.loader import load_problem

    rows = []
    t0 = time.perf_counter()
    cpu0 = os.times()
    with Judge(backend) as judge:
        for pkg in packages:
            problem = load_problem(pkg)
            for check in validate_problem(judge, problem):
                rep = check.report
                rows.append({
                    "solution": f"{problem.code}/{check.solution.path.relative_to(problem.root / 'solutions')}",
                    "ok": check.ok, "problems": check.problems, "score": rep.score,
                    "tests": {t.name: t.verdict.value for t in rep.tests},
                    "reruns": sum(RERUN_NOTE in t.message for t in rep.tests),
                    "max_wall_s": max((t.wall_s for t in rep.tests), default=0.0),
                })
    cpu1 = os.times()
    out.write_text(json.dumps({"wall_s": time.perf_counter() - t0,
                               "children_cpu_s": (cpu1.children_user + cpu1.children_system)
                               - (cpu0.children_user + cpu0.children_system),
                               "rows": rows}))


def _start_worker(packages: list[Path], out: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "--worker", str(out), "--backend", env["BENCH_BACKEND"],
                             *map(str, packages)], env=env)


def _finish(proc: subprocess.Popen, out: Path) -> dict:
    if proc.wait() != 0:
        raise SystemExit(f"a harness failed (exit {proc.returncode})")
    return json.loads(out.read_text())


def harnesses(packages: list[Path], work: Path, tag: str, n: int, env: dict[str, str]) -> list[dict]:
    outs = [work / f"{tag}-{i}.json" for i in range(n)]
    procs = [_start_worker(packages, o, env) for o in outs]
    return [_finish(p, o) for p, o in zip(procs, outs, strict=True)]


def busy_loops(n: int) -> list[subprocess.Popen]:
    """``n`` processes that spin forever, each in a session (so an autogroup, a CPU share) of its own."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True) for _ in range(n)]


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# -- comparison --------------------------------------------------------------------------------------

def agreement(base: dict, other: dict) -> dict:
    """How far ``other`` agrees with ``base``: solutions (score and check) and tests judged in both."""
    by = {r["solution"]: r for r in other["rows"]}
    sol_same = test_same = test_total = 0
    differences = []
    for r in base["rows"]:
        o = by.get(r["solution"])
        if o is None:
            differences.append(f"{r['solution']}: missing")
            continue
        if abs(o["score"] - r["score"]) < 1e-6 and o["ok"] == r["ok"]:
            sol_same += 1
        else:
            differences.append(f"{r['solution']}: score {r['score']:g} -> {o['score']:g}, ok {r['ok']} -> {o['ok']}")
        for name, verdict in r["tests"].items():
            ov = o["tests"].get(name)
            if "SKIPPED" in (verdict, ov) or ov is None:
                continue
            test_total += 1
            if ov == verdict:
                test_same += 1
            else:
                differences.append(f"{r['solution']} test {name}: {verdict} -> {ov}")
    return {"solutions": len(base["rows"]), "solutions_same": sol_same, "tests": test_total, "tests_same": test_same,
            "valid": sum(o["ok"] for o in other["rows"]), "reruns": sum(o["reruns"] for o in other["rows"]),
            "differences": differences}


def pct(a: int, b: int) -> str:
    return f"{100.0 * a / b:.1f} %" if b else "n/a"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="the near-limit package and two bundled ones")
    ap.add_argument("--out", type=Path, help="also print the Markdown section to this file's end")
    ap.add_argument("--backend", default="local", help="where the harnesses judge: local (default) or docker")
    ap.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("packages", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.packages, args.worker, args.backend)
        return

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        work = Path(tmp)
        bundled = sorted(p for p in (REPO / "problems").iterdir() if (p / "problem.json").is_file())
        if args.quick:
            bundled = bundled[:2]
        packages = [*bundled, near_limit_package(work)]
        env = {**os.environ, "IOI_EVAL_CACHE": str(work / "cache"), "BENCH_BACKEND": args.backend,
               "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "sandbox"), os.environ.get("PYTHONPATH", "")])}
        print(f"{len(packages)} packages; {cores} cores; warming the compile cache ...", flush=True)
        harnesses(packages, work, "warm", 1, env)

        print("idle ...", flush=True)
        idle = harnesses(packages, work, "idle", 1, env)[0]

        print(f"under load ({4 * cores} busy loops) ...", flush=True)
        loops = busy_loops(4 * cores)
        try:
            time.sleep(1.0)
            loaded = harnesses(packages, work, "load", 1, env)[0]
            load_avg = load_average()
        finally:
            for p in loops:
                p.kill()
                p.wait()

        print("two harnesses at once ...", flush=True)
        pair = harnesses(packages, work, "pair", 2, env)

    modes = [("idle", idle), (f"load: {4 * cores} busy loops (load average {load_avg:.1f} at the end)", loaded),
             *[(f"two harnesses at once, harness {i + 1}", r) for i, r in enumerate(pair)]]
    n_sol = len(idle["rows"])
    near = [r for r in idle["rows"] if r["solution"].startswith("nearlimit/")]
    lines = [
        f"## Load does not change time verdicts (issue 11, part 3), {args.backend} backend",
        "",
        f"Measured by `python bench/bench_load.py{' --quick' if args.quick else ''} --backend {args.backend}` on "
        f"{cores} CPUs, kernel "
        f"{os.uname().release}, {time.strftime('%Y-%m-%d %H:%M')}: {len(packages) - 1} bundled packages plus a "
        f"near-limit package (TL {TL:g} s: {len(near)} solutions, CPU time 0.7-0.8 TL single- and two-threaded, "
        "a 1.5 TL spinner and a sleeper) validated in one harness process per run, compile cache warm; "
        f"{n_sol} solutions in all. Agreement is with the idle run; tests are compared where both runs judged them "
        "(skipping after a zero depends on which test ends first).",
        "",
        "| run | wall | valid solutions | same score and check | same test verdicts | re-runs after a wall TLE |",
        "|---|---|---|---|---|---|",
    ]
    all_same = True
    for name, res in modes:
        a = agreement(idle, res)
        all_same &= not a["differences"]
        lines.append(f"| {name} | {res['wall_s']:.1f} s | {a['valid']}/{n_sol} | "
                     f"{pct(a['solutions_same'], a['solutions'])} | {pct(a['tests_same'], a['tests'])} | "
                     f"{a['reruns']} |")
    lines.append("")
    worst = {name: max((r["max_wall_s"] for r in res["rows"] if r["solution"].startswith("nearlimit/correct")),
                       default=0.0) for name, res in modes}
    lines.append("Longest wall time of a near-limit correct solution's test (its backstop is "
                 f"{2 * TL + 1:g} s): " + "; ".join(f"{n.split(':')[0]} {w:.2f} s" for n, w in worst.items()) + ".")
    lines.append("")
    for name, res in modes:
        rerun = [f"{r['solution']} ({r['reruns']})" for r in res["rows"] if r["reruns"]]
        if rerun:
            lines.append(f"Re-run after a wall TLE, {name.split(':')[0]}: {', '.join(rerun)}.")
    diffs = [f"- {name}: {d}" for name, res in modes for d in agreement(idle, res)["differences"]]
    if diffs:
        lines += ["", "Differences:", "", *diffs]
    lines.append("")
    lines.append(f"Verdict agreement {'100 %' if all_same else 'below 100 %'} in every run.")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with args.out.open("a") as f:
            f.write("\n" + text)


if __name__ == "__main__":
    main()
