"""Time verdicts do not depend on the machine's load (issue 11, part 3), judged end to end in the real box.

Under load a correct solution near its time limit keeps its AC (the launcher does not count time spent
waiting for a CPU against the wall limit); a sleeper still gets TLE at the wall-clock backstop, and the
report says that the judge ran it again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types.base import RERUN_NOTE
from ioi_eval.sources.loader import load_problem
from tests.conftest import write_package

TL = 0.5  # so the wall backstop is 2 * TL + 1 = 2 s
# 0.8 * TL of CPU time, then a+b
NEAR_LIMIT = ("#include <cstdio>\n#include <ctime>\nint main(){volatile unsigned long x=0;"
              "while((double)clock()/CLOCKS_PER_SEC<0.4) x++;"
              "long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n")
SLEEPER = "#include <unistd.h>\nint main(){sleep(100);}\n"


@pytest.fixture
def one_test_package(tmp_path: Path) -> Path:
    return write_package(
        tmp_path / "sum1",
        problem={"code": "sum1", "name": "Sum", "time_limit": TL, "memory_limit": 256 << 20, "task_type": "Batch"},
        subtasks={"01-all": {"score": 100, "testcases": ["1-01"]}},
        tests={"1-01": ("5 6\n", "11\n")},
    )


def _judge(judge, package: Path, source: str, tmp_path: Path):
    sol = tmp_path / "sol.cpp"
    sol.write_text(source)
    return judge.judge(load_problem(package), Submission.from_path(sol, True))


@contextmanager
def loaded() -> Iterator[int]:
    """Every thread of this process (so every run the judge starts) shares one CPU with six busy loops, each in
    a session (an autogroup) of its own: a run gets about a seventh of the CPU."""
    cpu = min(os.sched_getaffinity(0))
    old = os.sched_getaffinity(0)

    def pin() -> None:
        os.sched_setaffinity(0, {cpu})

    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=pin, start_new_session=True)
                for _ in range(6)]
    for tid in [int(t) for t in os.listdir("/proc/self/task")]:
        os.sched_setaffinity(tid, {cpu})
    try:
        time.sleep(0.3)
        yield cpu
    finally:
        for tid in [int(t) for t in os.listdir("/proc/self/task")]:
            with suppress(OSError):  # a thread that ended meanwhile
                os.sched_setaffinity(tid, old)
        for p in spinners:
            p.kill()
            p.wait()


def test_near_limit_solution_under_load_is_not_tle(judge, one_test_package: Path, tmp_path: Path) -> None:
    # Compiled first on an idle machine (the compile is not what this test is about), then judged under load.
    idle = _judge(judge, one_test_package, NEAR_LIMIT, tmp_path)
    assert idle.score == 100, idle.tests
    with loaded():
        r = _judge(judge, one_test_package, NEAR_LIMIT, tmp_path)
    t = r.tests[0]
    assert t.verdict == Verdict.AC, t
    assert t.wall_s > 2 * TL + 1, t  # the load was real: this is past the backstop
    assert RERUN_NOTE not in t.message  # the launcher's discount sufficed; no re-run was needed


def test_sleeper_is_tle_at_the_backstop_and_the_rerun_is_reported(judge, one_test_package: Path,
                                                                     tmp_path: Path) -> None:
    start = time.monotonic()
    r = _judge(judge, one_test_package, SLEEPER, tmp_path)
    took = time.monotonic() - start
    t = r.tests[0]
    assert t.verdict == Verdict.TLE and "wall clock" in t.message, t
    assert RERUN_NOTE in t.message, t
    assert 2 * TL + 1 <= t.wall_s < 2 * TL + 2, t
    assert took >= 2 * (2 * TL + 1)  # both runs waited for the backstop
