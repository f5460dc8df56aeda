"""Start-up of one ``ioi-eval judge`` process: this tree against a baseline commit, side by side in one run.

    python bench/bench_startup.py [--baseline REV] [--runs 15] [--out FILE.json]

Each version judges a 1-test package (a static a+b program, TL 1 s) with ``--json -j 1`` and a warm compile cache
(an untimed first judging fills it), as a fresh ``python -m ioi_eval.cli`` process per submission, the versions
interleaved run by run so that machine noise hits both alike. Per version: the process's wall time, the judge's own
wall time of the one test (from the report), and the rest: start-up before the test plus the report and exit after
it (an upper bound of "start-up to the first test"). The floor lines time what any version pays: the interpreter
(``python -c pass``), ``import typer`` and ``import typer, ioi_box.protocol`` (pydantic and the box protocol's models).

The baseline is ``git archive REV`` of this repository with this tree's native core copied in (the bench compares
the Python side). Each version has its own compile cache and TMPDIR.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOL = '#include <cstdio>\nint main(){long long a,b; if(scanf("%lld %lld",&a,&b)!=2) return 1; printf("%lld\\n",a+b);}\n'


def make_package(root: Path) -> Path:
    """A 1-test CMS package of a+b."""
    (root / "subtasks").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "problem.json").write_text(json.dumps({"code": "aplusb", "name": "a+b", "time_limit": 1.0,
                                                   "memory_limit": 256 << 20, "task_type": "Batch"}))
    (root / "subtasks" / "01-all.json").write_text(json.dumps({"score": 100, "testcases": ["01"]}))
    (root / "tests" / "01.in").write_text("1 2\n")
    (root / "tests" / "01.out").write_text("3\n")
    return root


def baseline_tree(rev: str, dest: Path) -> Path:
    """``rev`` of this repository extracted into ``dest``, with this tree's native core."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for so in (REPO / "sandbox" / "ioi_box").glob("_native*.so"):
        shutil.copy2(so, dest / "sandbox" / "ioi_box" / so.name)
    return dest


class Version:
    """One tree's ``ioi-eval judge``, with its own cache and TMPDIR."""

    def __init__(self, name: str, tree: Path, work: Path) -> None:
        self.name, self.tree = name, tree
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # .pyc as users have
        self.env.update(PYTHONPATH=f"{tree}{os.pathsep}{tree / 'sandbox'}", IOI_EVAL_CACHE=str(work / f"{name}-cache"),
                        TMPDIR=str(work / f"{name}-tmp"))
        (work / f"{name}-tmp").mkdir()
        self.walls: list[float] = []
        self.tests: list[float] = []

    def judge(self, pkg: Path, sol: Path) -> tuple[float, dict]:
        cmd = [sys.executable, "-m", "ioi_eval.cli", "judge", "-p", str(pkg), "-s", str(sol), "--json", "-j", "1"]
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, cwd=pkg.parent)
        wall = time.perf_counter() - t0
        if p.returncode != 0:
            raise SystemExit(f"{self.name}: ioi-eval judge failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
        report = json.loads(p.stdout)
        if report["score"] != report["max_score"]:
            raise SystemExit(f"{self.name}: a+b not accepted: {p.stdout[:500]}")
        return wall, report

    def timed(self, pkg: Path, sol: Path) -> None:
        wall, report = self.judge(pkg, sol)
        assert report["compile"]["cached"], "the compile cache should be warm"
        self.walls.append(wall)
        self.tests.append(sum(t["wall_s"] for t in report["tests"]))

    def summary(self) -> dict:
        wall, test = statistics.median(self.walls) * 1000, statistics.median(self.tests) * 1000
        rest = statistics.median(w - t for w, t in zip(self.walls, self.tests, strict=True)) * 1000
        return {"wall_ms": round(wall, 1), "test_ms": round(test, 1), "rest_ms": round(rest, 1),
                "runs": len(self.walls)}


#: What any version pays: the interpreter, typer, pydantic with the box protocol's models.
FLOOR = {"python -c pass": "pass", "import typer": "import typer",
         "import typer, ioi_box.protocol": "import typer, ioi_box.protocol"}


def time_floor(env: dict, times: dict[str, list[float]]) -> None:
    """One timing of each :data:`FLOOR` statement, appended to ``times``."""
    for label, stmt in FLOOR.items():
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", stmt], env=env, check=True)
        times.setdefault(label, []).append(time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", help="a commit to compare against (git rev), e.g. the branch's merge base")
    ap.add_argument("--runs", type=int, default=15, help="timed judgings per version")
    ap.add_argument("--out", type=Path, help="also write the figures as JSON")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as d:
        work = Path(d)
        os.chmod(work, 0o755)  # the sandbox's uid works below each version's TMPDIR
        pkg = make_package(work / "aplusb")
        sol = work / "sol.cpp"
        sol.write_text(SOL)
        versions = [Version("this tree", REPO, work)]
        if args.baseline:
            versions.insert(0, Version(f"baseline {args.baseline}", baseline_tree(args.baseline, work / "base"), work))
        for v in versions:
            for _ in range(2):  # untimed: compiles into the version's cache, writes .pyc files
                v.judge(pkg, sol)
        load = os.getloadavg()[0]
        floor: dict[str, list[float]] = {}
        for _ in range(args.runs):  # interleaved: machine noise hits every figure alike
            for v in versions:
                v.timed(pkg, sol)
            time_floor(versions[-1].env, floor)
        results = {"machine": {"cpus": os.cpu_count(), "kernel": os.uname().release, "load_1min": load,
                               "date": time.strftime("%Y-%m-%d %H:%M:%S")},
                   "versions": {v.name: v.summary() for v in versions},
                   "floor_ms": {k: round(statistics.median(v) * 1000, 1) for k, v in floor.items()}}
    print("| version | process wall (ms) | the test (ms) | the rest: start-up + exit (ms) |")
    print("|---|---|---|---|")
    for name, s in results["versions"].items():
        print(f"| {name} | {s['wall_ms']} | {s['test_ms']} | {s['rest_ms']} |")
    print(f"\nload {load:.2f}; floor (ms): " + ", ".join(f"{k} {v}" for k, v in results["floor_ms"].items()))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
