"""Overhead of ioi_box._native.run against a bare fork/exec of a trivial static binary.

    python bench/bench_native.py [iterations]

Compiles `int main(){return 0;}` statically into a temp dir, then times, per launch (median):
  * os.posix_spawn + waitpid     (glibc: clone(CLONE_VM|CLONE_VFORK), the cheapest launch)
  * os.fork + execv + waitpid    (bare fork/exec)
  * _native.run, use_cgroup=False
  * _native.run, use_cgroup=True  (when cgroup_setup() finds cgroups: 3 mkdir + attach + rmdir)
  * the same through the fork() path that FIFO stdio takes
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from ioi_box import _native


def bench(fn, n: int) -> float:
    for _ in range(max(3, n // 10)):  # warm-up
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    tmp = tempfile.mkdtemp(prefix="bench-native-")
    try:
        src = os.path.join(tmp, "true.c")
        exe = os.path.join(tmp, "true")
        with open(src, "w") as f:
            f.write("int main(void) { return 0; }\n")
        subprocess.run(["g++", "-O2", "-static", "-x", "c", src, "-o", exe], check=True)

        def spawn():
            pid = os.posix_spawn(exe, [exe], {})
            os.waitpid(pid, 0)

        def forkexec():
            pid = os.fork()
            if pid == 0:
                try:
                    os.execve(exe, [exe], {})
                finally:
                    os._exit(127)
            os.waitpid(pid, 0)

        info = _native.cgroup_setup()
        rows = [
            ("posix_spawn + waitpid", bench(spawn, n)),
            ("fork + execve + waitpid", bench(forkexec, n)),
            ("_native.run (no cgroup)", bench(lambda: _native.run([{"argv": [exe], "use_cgroup": False}]), n)),
        ]
        if info["version"]:
            label = f"_native.run (cgroup v{info['version']})"
            rows.append((label, bench(lambda: _native.run([{"argv": [exe]}]), n)))
            # the fork() path, taken when a stdio path is a FIFO (Communication tasks)
            _native._set_fallbacks(no_vfork=True)
            rows.append((label[:-1] + ", fork path)", bench(lambda: _native.run([{"argv": [exe]}]), n)))
            _native._set_fallbacks()
        base = rows[1][1]
        print(f"cgroups: {info}")
        for name, t in rows:
            print(f"{name:38s} {t * 1e3:8.3f} ms   ({(t - base) * 1e3:+.3f} ms vs fork/exec)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
