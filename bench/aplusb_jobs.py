"""The a+b workload that the backend benches (Docker, Ray) run against the local backend: one shared definition."""

from __future__ import annotations

from ioi_box.protocol import Limits, Proc, RunJob

APLUSB = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n"


def aplusb_jobs(box, prog: str, n: int) -> tuple[list[RunJob], list[str]]:
    """``n`` runs of the a+b program ``prog`` (a blob in ``box``), each with its own input and output folder."""
    jobs, dirs = [], []
    for i in range(n):
        inp = box.put_bytes(f"{i} {i + 1}\n".encode())
        w = box.new_dir()
        dirs.append(w)
        jobs.append(RunJob(procs=[Proc(argv=["/box/prog"], binds={"/box/prog": prog}, rw_binds={"/box/out": w},
                                       stdin=inp, stdout=f"{w}/out",
                                       limits=Limits(cpu_s=1, wall_s=3, memory_bytes=256 << 20))]))
    return jobs, dirs
