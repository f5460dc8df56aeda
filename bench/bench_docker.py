"""Docker backend against the local one, on the same workload in the same run.

    python bench/bench_docker.py [--tests 200] [--out bench/RESULTS.md]

1. Pool warm-up: from ``DockerBackend.open`` to every container answering (1 and 2 containers).
2. Per-test overhead: a static a+b program run on ``--tests`` tests (each its own input blob,
   output file and scratch folder), one slot per backend, as one batch (batched) and one
   ``execute`` per test (unbatched); overhead = (docker - local) / tests.
3. Round trip: an empty request to a container and back.

Batched runs also report machine CPU per test (``cpu_*_ms``): the harness and its reaped children (the local box's
runs), the containers' delegated cpuacct groups (the server and every run in them), and the engine's processes;
on a loaded machine the wall mostly measures waits for a CPU, this what each test costs. ``--isolation bwrap``
forces bubblewrap in the containers (the Docker backend before the zygote ran there).

Goals (issue): per-test overhead < 2 ms when batched; pool warm-up < 2 s. Appends (or replaces) the
"Docker backend" section of the results file; the rest of the file is kept.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(1, str(REPO / "sandbox"))

from aplusb_jobs import APLUSB, aplusb_jobs  # noqa: E402
from ioi_box.protocol import Batch, RemovePaths  # noqa: E402

from ioi_eval.backends.docker import DockerBackend  # noqa: E402
from ioi_eval.backends.local import LocalBackend  # noqa: E402

SECTION = "## Docker backend"


def _proc_cpu(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _engine_cpu() -> dict[int, float]:
    """CPU seconds so far of each engine process (dockerd, containerd, the shims: they carry the stream), by pid."""
    found = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                comm = (d / "comm").read_text().strip()
            except OSError:
                continue
            if comm in ("dockerd", "containerd") or comm.startswith("containerd-shim"):
                found[int(d.name)] = _proc_cpu(int(d.name))
    return found


def _containers_cpu(box) -> float:
    """CPU seconds so far of the box's containers, from their delegated cpuacct groups (0 without delegation)."""
    from ioi_eval.backends.docker import CGROUP_PARENT, DockerChannel

    total = 0.0
    for slot in getattr(getattr(box, "pool", None), "slots", []):
        ch = slot.channel
        if isinstance(ch, DockerChannel):
            usage = Path(f"/sys/fs/cgroup/cpuacct/{CGROUP_PARENT}/{ch.container}/cpuacct.usage")
            if usage.exists():
                total += int(usage.read_text()) / 1e9
    return total


def machine_cpu(box) -> dict:
    """CPU seconds so far: this process and its reaped children (the local box's runs), the containers, the engine
    (by pid: processes of other users of the engine come and go)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"harness": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime,
            "containers": _containers_cpu(box), "engine": _engine_cpu()}


def measure(box, binary: Path, tests: int) -> dict:
    prog = box.put_file(binary, executable=True)
    warm, dirs = aplusb_jobs(box, prog, 4)
    box.execute(Batch(jobs=warm))  # uploads, first runs
    box.remove(dirs)
    jobs, dirs = aplusb_jobs(box, prog, tests)
    c0 = machine_cpu(box)
    t0 = time.perf_counter()
    res = box.execute(Batch(jobs=jobs))
    batched = (time.perf_counter() - t0) / tests
    c1 = machine_cpu(box)
    engine = sum(c1["engine"][pid] - c0["engine"][pid] for pid in c0["engine"].keys() & c1["engine"].keys())
    cpu = {f"cpu_{k}_ms": (c1[k] - c0[k]) / tests * 1000 for k in ("harness", "containers")}
    cpu["cpu_engine_ms"] = engine / tests * 1000
    assert all(r.procs and r.procs[0].status.value == "OK" for r in res.results), res.results[:2]
    box.remove(dirs)
    jobs, dirs = aplusb_jobs(box, prog, tests)
    t0 = time.perf_counter()
    for job in jobs:
        box.execute(Batch(jobs=[job]))
    single = (time.perf_counter() - t0) / tests
    box.remove(dirs)
    return {"batched_ms": batched * 1000, "single_ms": single * 1000, **cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tests", type=int, default=200)
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    ap.add_argument("--isolation", default="namespaced",
                    help="what runs get inside the containers: namespaced (the zygote, else bwrap) or bwrap")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "aplusb"
        src = Path(tmp) / "aplusb.cpp"
        src.write_text(APLUSB)
        subprocess.run(["g++", "-O2", "-static", "-o", str(binary), str(src)], check=True)
        warmups = {}
        for n in (1, 2):
            times = []
            for _ in range(3):
                t0 = time.perf_counter()
                box = DockerBackend(slots_per_container=1).open(n)
                times.append(time.perf_counter() - t0)
                box.close()
            warmups[n] = statistics.median(times)
        local = LocalBackend().open(1)
        try:
            lo = measure(local, binary, args.tests)
        finally:
            local.close()
        docker = DockerBackend(isolation=args.isolation).open(1)
        try:
            do = measure(docker, binary, args.tests)
            ch = docker.pool.channel(docker.pool.slots[0])
            t0 = time.perf_counter()
            for _ in range(200):
                ch.call(RemovePaths(paths=[]))
            rtt = (time.perf_counter() - t0) / 200 * 1000
        finally:
            docker.close()
    r = {"warmup": warmups, "local": lo, "docker": do, "rtt_ms": rtt, "tests": args.tests,
         "isolation": docker.info.isolation}
    print(r)
    write_report(r, args.out)


def write_report(r: dict, out: Path) -> None:
    lo, do = r["local"], r["docker"]
    over_b = do["batched_ms"] - lo["batched_ms"]
    over_s = do["single_ms"] - lo["single_ms"]
    w1, w2 = r["warmup"][1], r["warmup"][2]
    text = f"""{SECTION}

Measured by `python bench/bench_docker.py` on {os.cpu_count()} CPUs, kernel {platform.release()},
{time.strftime("%Y-%m-%d %H:%M:%S")}: a static a+b program on {r["tests"]} tests, one slot on each backend,
same run. Containers: `--network none`, read-only root, {r.get("isolation", "bwrap")} per run inside, per-run cgroups.

| what | local | docker | docker - local | goal | met |
|---|---|---|---|---|---|
| per test, batched (one `execute` of {r["tests"]} jobs) | {lo["batched_ms"]:.2f} ms | {do["batched_ms"]:.2f} ms | {over_b:+.2f} ms | < 2 ms | {"yes" if over_b < 2 else "no"} |
| per test, one `execute` each | {lo["single_ms"]:.2f} ms | {do["single_ms"]:.2f} ms | {over_s:+.2f} ms | | |
| pool warm-up, 1 container (median of 3) | | {w1:.2f} s | | < 2 s | {"yes" if w1 < 2 else "no"} |
| pool warm-up, 2 containers in parallel (median of 3) | | {w2:.2f} s | | < 2 s | {"yes" if w2 < 2 else "no"} |
| round trip of an empty request to a container | | {r["rtt_ms"]:.3f} ms | | | |

Where the difference goes: the stream costs one round trip per request (above), amortised over a
batch. Inside the containers each run gets the same zygote box as locally (built in a user namespace,
since the containers hold no CAP_SYS_ADMIN); `--isolation bwrap` measures bubblewrap per run there
instead. Unbatched, each test also uploads its input in a request of its own.
"""
    old = out.read_text() if out.exists() else ""
    if SECTION in old:
        head, _, rest = old.partition(SECTION)
        tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
        old = head.rstrip() + "\n\n" + text + tail
    else:
        old = old.rstrip() + "\n\n" + text
    out.write_text(old)


if __name__ == "__main__":
    main()
