"""Runs INSIDE a judge container (bench/bench_docker_parts.py starts it): per-run wall of the parts of a test.

Prints one JSON line: median ms per run of each variant (a static a+b program, stdin from a file, stdout to a file).
"""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from ioi_box import _native
from ioi_box.executor import Executor
from ioi_box.isolation import BwrapIsolation, PlainIsolation, _drop_ids, zygote_works
from ioi_box.protocol import Batch, Limits, Proc, RunJob

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 200
SRC = '#include <cstdio>\nint main(){long long a,b;scanf("%lld %lld",&a,&b);printf("%lld\\n",a+b);}\n'
work = Path("/work/parts")
work.mkdir(parents=True, exist_ok=True)
os.chmod(work, 0o755)
(work / "a.cpp").write_text(SRC)
subprocess.run(["g++", "-O2", "-static", "-o", str(work / "prog"), str(work / "a.cpp")], check=True)
(work / "in").write_text("1 2\n")
os.chmod(work / "in", 0o644)
out_dir = work / "o"
out_dir.mkdir(exist_ok=True)
os.chmod(out_dir, 0o777)
LIM = Limits(cpu_s=1, wall_s=3, memory_bytes=256 << 20)
res = {}


def timed(fn, n=RUNS):
    fn()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times) * 1000, 3)


ex_root = work / "ex"
with Executor(root=ex_root, isolation=PlainIsolation(), workers=1) as ex:
    prog = ex.put_file(work / "prog", executable=True)
    inp = ex.put_bytes(b"1 2\n")
    w = ex.new_dir()
    job = RunJob(procs=[Proc(argv=["/box/prog"], binds={"/box/prog": prog}, rw_binds={"/box/out": w}, stdin=inp,
                             stdout=f"{w}/out", limits=LIM)])
    uid, gid = _drop_ids()
    base = {"argv": [str(work / "prog")], "env": [], "stdin": str(work / "in"), "stdout": str(out_dir / "out"),
            "uid": uid, "gid": gid, "cpu_limit_s": 1, "wall_limit_s": 3, "memory_limit_bytes": 256 << 20}
    res["native_bare_nocg"] = timed(lambda: _native.run([{**base, "use_cgroup": False}]))
    res["native_bare_cg"] = timed(lambda: _native.run([base]))
    res["executor_rlimits"] = timed(lambda: ex.execute(Batch(jobs=[job])))
    variants = {}
    try:
        variants["bwrap"] = BwrapIsolation("/usr/bin/bwrap")
    except Exception as exc:
        res["bwrap_error"] = str(exc)
    if os.environ.get("PARTS_ZYGOTE", "1") == "1":
        zygote, why = zygote_works()
        if zygote is not None:
            variants["zygote"] = zygote
        else:
            res["zygote_error"] = why
    for name, iso in variants.items():
        spec = iso.spec(job.procs[0], ex.host_path, ex.root)
        r = _native.run([spec])[0]
        if r.get("setup_error") or r.get("exit_code") != 0:
            res[f"{name}_error"] = str(r)
            continue
        res[f"native_{name}_nocg"] = timed(lambda s=spec: _native.run([{**s, "use_cgroup": False}]))
        res[f"native_{name}_cg"] = timed(lambda s=spec: _native.run([s]))
        ex.isolation = iso
        res[f"executor_{name}"] = timed(lambda: ex.execute(Batch(jobs=[job])))
        jobs = [job] * RUNS
        t0 = time.perf_counter()
        ex.execute(Batch(jobs=jobs))
        res[f"executor_{name}_batch"] = round((time.perf_counter() - t0) / RUNS * 1000, 3)
print(json.dumps(res), flush=True)
