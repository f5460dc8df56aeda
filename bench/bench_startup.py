"""Start-up of one ``ioi-eval judge`` process, and the compile path: this tree against a baseline commit, side by
side in one run (issue 13).

    python bench/bench_startup.py [--baseline REV] [--runs 15] [--compiles 4] [--out FILE.json]

Each version judges a 1-test package (a static a+b program, TL 1 s) with ``--json -j 1`` and a warm compile cache
(an untimed first judging fills it), as a fresh ``python -m ioi_eval.cli`` process per submission, the versions
interleaved run by run so that machine noise hits both alike. Per version: the process's wall time, the judge's own
wall time of the one test (from the report), and the rest: start-up before the test plus the report and exit after
it (an upper bound of "start-up to the first test"), and the CPU time of the whole process tree (less
inflated than wall time on a loaded machine). The floor lines time what any version pays: the interpreter
(``python -c pass``), ``import typer`` and ``import typer, ioi_box.protocol`` (pydantic and the box protocol's models).

Compile path: per round, each version's fresh process compiles a <cstdio> program ``--compiles`` times with
``Compiler.compile`` (a new cache key each time: never a hit), and this process runs the bare compiler with the same
flags (``g++ -DEVAL -std=gnu++17 -O2 -pipe -static -s``) as many times. The first compile of a process is reported
apart (it also finds the precompiled header and the toolchain's version); for the others, the sandboxed compiler's own
wall time (the launcher's, from start to reap) and the rest (Python: sources into the box, the product into the blob
store and the compile cache, clean-up), and the harness's own CPU time per compile (this process's, the in-process
launcher included).

The baseline is ``git archive REV`` of this repository with this tree's native core copied in (the bench compares
the Python side). Each version has its own compile cache and TMPDIR.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOL = '#include <cstdio>\nint main(){long long a,b; if(scanf("%lld %lld",&a,&b)!=2) return 1; printf("%lld\\n",a+b);}\n'


def wait_served(v: Version, pkg: Path, sol: Path, timeout: float = 60.0) -> None:
    """Judge untimed until the served version's judging is served (``-v`` says so)."""
    deadline = time.monotonic() + timeout
    cmd = [sys.executable, "-m", "ioi_eval.cli", "-v", "judge", "-p", str(pkg), "-s", str(sol), "--json", "-j", "1"]
    while "judged by the judge server" not in subprocess.run(cmd, env=v.env, capture_output=True, text=True,
                                                             cwd=pkg.parent).stderr:
        if time.monotonic() > deadline:
            raise SystemExit(f"{v.name}: the judge server did not answer within {timeout:g} s")
        time.sleep(0.2)


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

    def __init__(self, name: str, tree: Path, work: Path, served: bool = False) -> None:
        self.name, self.tree, self.served = name, tree, served
        self.env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # .pyc as users have
        self.env.update(PYTHONPATH=f"{tree}{os.pathsep}{tree / 'sandbox'}", IOI_EVAL_CACHE=str(work / f"{name}-cache"),
                        TMPDIR=str(work / f"{name}-tmp"), IOI_EVAL_JUDGE_SERVER="1" if served else "0")
        if served:  # its own runtime folder: the server is stopped at the end (see stop_servers)
            (work / "runtime").mkdir(mode=0o700)
            self.env["XDG_RUNTIME_DIR"] = str(work / "runtime")
        (work / f"{name}-tmp").mkdir()
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self.tests: list[float] = []

    def judge(self, pkg: Path, sol: Path) -> tuple[float, float, dict]:
        """One judging: its wall time, the CPU time of its process tree, the report."""
        cmd = [sys.executable, "-m", "ioi_eval.cli", "judge", "-p", str(pkg), "-s", str(sol), "--json", "-j", "1"]
        cpu0 = _children_cpu()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, env=self.env, capture_output=True, text=True, cwd=pkg.parent)
        wall = time.perf_counter() - t0
        cpu = _children_cpu() - cpu0
        if p.returncode != 0:
            raise SystemExit(f"{self.name}: ioi-eval judge failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
        report = json.loads(p.stdout)
        if report["score"] != report["max_score"]:
            raise SystemExit(f"{self.name}: a+b not accepted: {p.stdout[:500]}")
        return wall, cpu, report

    def timed(self, pkg: Path, sol: Path) -> None:
        wall, cpu, report = self.judge(pkg, sol)
        assert report["compile"]["cached"], "the compile cache should be warm"
        self.walls.append(wall)
        self.cpus.append(cpu)
        self.tests.append(sum(t["wall_s"] for t in report["tests"]))

    def summary(self) -> dict:
        wall, test = statistics.median(self.walls) * 1000, statistics.median(self.tests) * 1000
        rest = statistics.median(w - t for w, t in zip(self.walls, self.tests, strict=True)) * 1000
        return {"wall_ms": round(wall, 1), "test_ms": round(test, 1), "rest_ms": round(rest, 1),
                "cpu_ms": ms(self.cpus), "runs": len(self.walls)}


def stop_servers(work: Path) -> None:
    """End the judge servers the served version started (their pid files are in its runtime folder)."""
    for pid_file in (work / "runtime").glob("*/*.pid"):
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGTERM)


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


TYPICAL = r"""
#include <cstdio>
#include <vector>
int main() {
    int n; if (scanf("%d", &n) != 1) return 1;
    std::vector<long long> a(n + 1);
    for (int i = 1; i <= n; i++) { long long x; scanf("%lld", &x); a[i] = a[i - 1] + x; }
    printf("%lld\n", a[n]);
}
"""
CPP_FLAGS = ("-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-static", "-s")  # the judge's, checked by the worker
#: Run in a version's tree: ``--compiles`` cold compiles through its Compiler, [[wall, the compiler's wall], ...].
COMPILE_WORKER = r"""
import json, sys, time
from pathlib import Path
from ioi_eval.backends.local import LocalBackend
from ioi_eval.judge.compiler import Compiler, CompileUnit
from ioi_eval.judge.languages import CPP_FLAGS
src, cache, n, tag = Path(sys.argv[1]).read_bytes(), Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
assert CPP_FLAGS == tuple(sys.argv[5:]), CPP_FLAGS
box = LocalBackend().open(1)
try:
    comp, out = Compiler(box, cache_dir=cache), []
    for i in range(n):
        unit = CompileUnit(language="cpp", files=(("sol.cpp", src + f"// {tag} {i}\n".encode()),),
                           compiled=("sol.cpp",), main="sol.cpp", flags=CPP_FLAGS)
        t0, c0 = time.perf_counter(), time.process_time()
        res, _ = comp.compile(unit)
        out.append([time.perf_counter() - t0, res.wall_s, time.process_time() - c0])
        assert res.ok and not res.cached, res
finally:
    box.close()
print(json.dumps(out))
"""


def compile_round(v: Version, src: Path, n: int, tag: str, into: dict[str, list]) -> None:
    """One process of ``v`` compiling ``n`` times; its timings appended to ``into``."""
    p = subprocess.run([sys.executable, "-c", COMPILE_WORKER, str(src), v.env["IOI_EVAL_CACHE"], str(n), tag,
                        *CPP_FLAGS], env=v.env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{v.name}: compile worker failed: {p.stderr.strip()[-2000:]}")
    timings = json.loads(p.stdout)
    into.setdefault("first", []).append(timings[0][0])
    into.setdefault("wall", []).extend(t[0] for t in timings[1:])
    into.setdefault("compiler", []).extend(t[1] for t in timings[1:])
    into.setdefault("rest", []).extend(t[0] - t[1] for t in timings[1:])
    into.setdefault("harness_cpu", []).extend(t[2] for t in timings[1:])


def bare_compiles(src: Path, out: Path, n: int, into: list[float]) -> None:
    """``n`` bare compiles with the judge's flags, appended to ``into``."""
    for i in range(n):
        src.write_text(TYPICAL + f"// bare {i}\n")
        t0 = time.perf_counter()
        subprocess.run(["g++", *CPP_FLAGS, "-o", str(out), str(src)], check=True)
        into.append(time.perf_counter() - t0)


def ms(xs: list[float]) -> float:
    """The median in milliseconds."""
    return round(statistics.median(xs) * 1000, 1)


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
    ap.add_argument("--compiles", type=int, default=4, help="compiles per process and round (0: no compile part)")
    ap.add_argument("--out", type=Path, help="also write the figures as JSON")
    ap.add_argument("--server", action="store_true",
                    help="also time this tree with IOI_EVAL_JUDGE_SERVER=1 (the resident judge; its process tree's "
                         "CPU is then the caller's alone: the judging runs in the server's fork)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_startup_") as d:
        work = Path(d)
        os.chmod(work, 0o755)  # the sandbox's uid works below each version's TMPDIR
        pkg = make_package(work / "aplusb")
        sol = work / "sol.cpp"
        sol.write_text(SOL)
        versions = [Version("this tree", REPO, work)]
        if args.server:
            versions.append(Version("this tree, judge server", REPO, work, served=True))
        if args.baseline:
            versions.insert(0, Version(f"baseline {args.baseline}", baseline_tree(args.baseline, work / "base"), work))
        for v in versions:
            for _ in range(2):  # untimed: compiles into the version's cache, writes .pyc files
                v.judge(pkg, sol)
            if v.served:  # the first call started the server: wait until it answers
                wait_served(v, pkg, sol)
        load = os.getloadavg()[0]
        floor: dict[str, list[float]] = {}
        for _ in range(args.runs):  # interleaved: machine noise hits every figure alike
            for v in versions:
                v.timed(pkg, sol)
            time_floor(versions[-1].env, floor)
        compiles: dict[str, dict[str, list]] = {v.name: {} for v in versions}
        bare: list[float] = []
        if args.compiles > 1:
            src = work / "typical.cpp"
            src.write_text(TYPICAL)
            for r in range(max(3, args.runs // 3)):
                for v in versions:
                    compile_round(v, src, args.compiles, f"{r}", compiles[v.name])
                bare_compiles(work / "bare.cpp", work / "bare", args.compiles - 1, bare)
        results = {"machine": {"cpus": os.cpu_count(), "kernel": os.uname().release, "load_1min": load,
                               "date": time.strftime("%Y-%m-%d %H:%M:%S")},
                   "versions": {v.name: v.summary() for v in versions},
                   "floor_ms": {k: ms(v) for k, v in floor.items()}}
        stop_servers(work)
        if bare:
            results["compile_ms"] = {"bare g++": ms(bare), **{
                name: {k: ms(xs) for k, xs in c.items()} | {"n": len(c["wall"])} for name, c in compiles.items()}}
    print("| version | process wall (ms) | the test (ms) | the rest: start-up + exit (ms) | CPU, process tree (ms) |")
    print("|---|---|---|---|---|")
    for name, s in results["versions"].items():
        print(f"| {name} | {s['wall_ms']} | {s['test_ms']} | {s['rest_ms']} | {s['cpu_ms']} |")
    print(f"\nload {load:.2f}; floor (ms): " + ", ".join(f"{k} {v}" for k, v in results["floor_ms"].items()))
    if "compile_ms" in results:
        c = results["compile_ms"]
        print(f"\ncompile, same flags: bare g++ {c['bare g++']} ms")
        print("| version | judge compile (ms) | its sandboxed compiler (ms) | the rest (ms) | harness CPU (ms) "
              "| first in a process (ms) |")
        print("|---|---|---|---|---|---|")
        for name in results["versions"]:
            x = c[name]
            print(f"| {name} | {x['wall']} | {x['compiler']} | {x['rest']} | {x['harness_cpu']} | {x['first']} |")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
