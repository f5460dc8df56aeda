"""Per-test sandbox overhead: the zygote against bubblewrap against a bare fork/exec, side by side.

    python bench/bench_sandbox.py [--runs 200] [--block 10]

Two static programs: ``trivial`` (``int main(){}``) and ``sum`` (reads 2*10^5 integers from stdin
and prints their sum, like the peer workload's sumseq). Per program, these variants run in
interleaved blocks (the first run of each block is dropped: it pays for the previous variant's
after-effects), each timed per run:

* ``bare``: ``os.posix_spawn`` + ``os.wait4`` with stdin/stdout redirected (no sandbox);
* ``bwrap`` / ``zygote``: ``Executor.execute`` of one job through that isolation, with the
  executor's cgroups and limits, exactly as a test runs (``native`` rows: the launcher call alone,
  ``_native.run`` of the isolation's spec, without the Python around it).

Then the kernel's floor, without ioi-eval (``bench/floor_ns.c``, built here): per run, a bare fork/exec against the
same with fresh pid, mount, ipc and uts namespaces (the program as pid 1's child), plus a fresh network namespace,
plus a fresh cgroup in each v1 controller the judge uses (made, joined, removed), each timed inside the C helper.
What the sandbox must do per test (issue 13's "no persistence between tests") cannot cost less than that floor.

Prints the median wall per run, the median CPU charged to the program (``cpu_s``; bare: rusage),
the machine CPU per run (this process and its children, the sandbox's own work included: on a loaded
machine the wall mostly measures waits for a CPU, this what each run costs) and the overhead over bare, as a table and as JSON (``--json FILE``). Needs root with CAP_SYS_ADMIN
for the zygote and bubblewrap for the other.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "sandbox"))

from ioi_box import _native  # noqa: E402
from ioi_box.executor import Executor  # noqa: E402
from ioi_box.isolation import BwrapIsolation, NamespaceIsolation  # noqa: E402
from ioi_box.protocol import Batch, Limits, Proc, RunJob  # noqa: E402

PROGRAMS = {
    "trivial": "int main(void) { return 0; }\n",
    "sum": "#include <stdio.h>\nint main(void) { long long s = 0, x; int n; if (scanf(\"%d\", &n) != 1) return 1;\n"
           "  for (int i = 0; i < n; i++) { if (scanf(\"%lld\", &x) != 1) return 1; s += x; }\n"
           "  printf(\"%lld\\n\", s); return 0; }\n",
}
LIMITS = Limits(cpu_s=2, wall_s=5, memory_bytes=256 << 20)


def machine_cpu() -> float:
    """CPU seconds of this process (all threads) and of its reaped children so far."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def build(tmp: Path) -> tuple[dict[str, Path], Path]:
    exes = {}
    for name, src in PROGRAMS.items():
        (tmp / f"{name}.c").write_text(src)
        exes[name] = tmp / name
        subprocess.run(["gcc", "-O2", "-static", "-o", str(exes[name]), str(tmp / f"{name}.c")], check=True)
    rng = random.Random(13)
    n = 200_000
    data = tmp / "sum.in"
    data.write_text(f"{n}\n" + " ".join(str(rng.randint(1, 10**9)) for _ in range(n)) + "\n")
    return exes, data


FLOOR_VARIANTS = ("bare", "ns", "ns+cg", "ns+net", "ns+net+cg")


def kernel_floor(tmp: Path, exes: dict[str, Path], data: Path, runs: int, block: int) -> dict[str, dict[str, dict]]:
    """Per program and :data:`FLOOR_VARIANTS` variant: the median wall per run (ms), and over the helper's bare."""
    helper = tmp / "floor_ns"
    subprocess.run(["gcc", "-O2", "-o", str(helper), str(ROOT / "bench" / "floor_ns.c")], check=True)
    variants = [v for v in FLOOR_VARIANTS if "cg" not in v or Path("/sys/fs/cgroup/memory/cgroup.procs").exists()]
    out: dict[str, dict[str, dict]] = {}
    for prog, exe in exes.items():
        stdin = str(data) if prog == "sum" else "/dev/null"
        walls: dict[str, list[float]] = {v: [] for v in variants}
        for _ in range(max(1, runs // block)):
            for v in variants:
                got = subprocess.run([str(helper), v, str(block + 1), str(exe), stdin], capture_output=True,
                                     text=True, check=True).stdout.split()
                walls[v].extend(float(x) / 1e3 for x in got[1:])  # the first pays for the previous variant's
        base = statistics.median(walls["bare"])
        out[prog] = {v: {"wall_ms": statistics.median(w), "wall_over_bare_ms": statistics.median(w) - base}
                     for v, w in walls.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=200, help="timed runs per variant and program")
    ap.add_argument("--block", type=int, default=10, help="runs per interleaved block")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    os.chmod(tmp, 0o755)
    try:
        exes, data = build(tmp)
        bwrap = BwrapIsolation(shutil.which("bwrap") or "bwrap")
        zygote = NamespaceIsolation()
        boxes = {"bwrap": Executor(isolation=bwrap, workers=1), "zygote": Executor(isolation=zygote, workers=1)}
        out_path = tmp / "out"
        results: dict[str, dict[str, dict[str, float]]] = {}
        for prog, exe in exes.items():
            stdin = str(data) if prog == "sum" else "/dev/null"
            procs = {}
            for name, ex in boxes.items():
                blob = ex.put_file(exe, executable=True)
                inp = ex.put_file(Path(stdin)) if prog == "sum" else None
                work = ex.new_dir()
                procs[name] = (ex, Proc(argv=["/box/prog"], binds={"/box/prog": blob}, stdin=inp,
                                        stdout=f"{work}/out", limits=LIMITS))

            def bare(exe: Path = exe, stdin: str = stdin) -> tuple[float, float]:
                fin = os.open(stdin, os.O_RDONLY)
                fout = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                t = time.perf_counter()
                pid = os.posix_spawn(str(exe), [str(exe)], {}, file_actions=[
                    (os.POSIX_SPAWN_DUP2, fin, 0), (os.POSIX_SPAWN_DUP2, fout, 1)])
                _, _, ru = os.wait4(pid, 0)
                wall = time.perf_counter() - t
                os.close(fin)
                os.close(fout)
                return wall, ru.ru_utime + ru.ru_stime

            def boxed(name: str, procs: dict = procs) -> tuple[float, float]:
                ex, proc = procs[name]
                t = time.perf_counter()
                res = ex.execute(Batch(jobs=[RunJob(procs=[proc])])).results[0]
                wall = time.perf_counter() - t
                assert res.error is None and res.procs[0].status == "OK", res
                return wall, res.procs[0].cpu_s

            def native(name: str, procs: dict = procs) -> tuple[float, float]:
                ex, proc = procs[name]
                spec = ex.isolation.spec(proc, ex.host_path, ex.root)
                t = time.perf_counter()
                raw = _native.run([spec])[0]
                wall = time.perf_counter() - t
                assert raw["setup_error"] is None and ex.isolation.normalise(raw)["exit_code"] == 0, raw
                return wall, raw["cpu_s"]

            variants = {"bare": bare, "bwrap": lambda: boxed("bwrap"), "zygote": lambda: boxed("zygote"),
                        "bwrap native": lambda: native("bwrap"), "zygote native": lambda: native("zygote")}
            walls: dict[str, list[float]] = {v: [] for v in variants}
            cpus: dict[str, list[float]] = {v: [] for v in variants}
            machine: dict[str, list[float]] = {v: [] for v in variants}
            for _ in range(max(1, args.runs // args.block)):
                for v, fn in variants.items():
                    fn()  # pays for the previous variant's after-effects
                    before = machine_cpu()
                    for _ in range(args.block):
                        w, c = fn()
                        walls[v].append(w)
                        cpus[v].append(c)
                    machine[v].append((machine_cpu() - before) / args.block)
            base_w, base_c = statistics.median(walls["bare"]), statistics.median(cpus["bare"])
            base_m = statistics.median(machine["bare"])
            results[prog] = {v: {"wall_ms": statistics.median(walls[v]) * 1e3, "cpu_ms": statistics.median(cpus[v]) * 1e3,
                                 "machine_cpu_ms": statistics.median(machine[v]) * 1e3,
                                 "wall_over_bare_ms": (statistics.median(walls[v]) - base_w) * 1e3,
                                 "cpu_over_bare_ms": (statistics.median(cpus[v]) - base_c) * 1e3,
                                 "machine_cpu_over_bare_ms": (statistics.median(machine[v]) - base_m) * 1e3}
                             for v in variants}
        for ex in boxes.values():
            ex.close()
        floor = kernel_floor(tmp, exes, data, args.runs, args.block)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load = os.getloadavg()[0]
    print(f"runs per variant {args.runs} (blocks of {args.block}), 1-min load {load:.2f}")
    print(f"{'program':8s} {'variant':14s} {'wall ms':>8s} {'+bare':>7s} {'cpu ms':>7s} {'+bare':>7s} "
          f"{'machine':>8s} {'+bare':>7s}")
    for prog, rows in results.items():
        for v, r in rows.items():
            print(f"{prog:8s} {v:14s} {r['wall_ms']:8.3f} {r['wall_over_bare_ms']:+7.3f} {r['cpu_ms']:7.3f} "
                  f"{r['cpu_over_bare_ms']:+7.3f} {r['machine_cpu_ms']:8.3f} {r['machine_cpu_over_bare_ms']:+7.3f}")
    print("\nkernel floor, no ioi-eval (bench/floor_ns.c; timed in C, over its own bare fork/exec):")
    for prog, rows in floor.items():
        for v, r in rows.items():
            print(f"{prog:8s} {v:14s} {r['wall_ms']:8.3f} {r['wall_over_bare_ms']:+7.3f}")
    if args.json:
        args.json.write_text(json.dumps({"load": load, "runs": args.runs, "results": results, "kernel_floor": floor},
                                        indent=1))


if __name__ == "__main__":
    main()
