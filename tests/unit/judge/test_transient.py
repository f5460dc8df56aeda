"""A transient failure is never a verdict, and never cached (issue 11, part 2), on a FakeBox.

A compile killed from outside, the host out of memory or disk, a wall-clock timeout on a loaded machine and a box
that failed to set up are tried once more, then a JudgeError names the cause: never a CE, never a cache entry. A
checker or manager that prints garbage is SE.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ioi_box.protocol import CompareJob, JobResult, ProcResult, ProcStatus, RunJob

from ioi_eval.errors import JudgeError
from ioi_eval.judge import checkers
from ioi_eval.judge.checkers import CheckerFailure
from ioi_eval.judge.compiler import UNTRUSTED_LIMITS, Compiler, CompileUnit, transient_cause
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS
from tests.fixtures.fake_box import FakeBackend, FakeBox, is_compile, proc

UNIT = CompileUnit(language="cpp", files=(("a.cpp", b"int main() {}\n"),), compiled=("a.cpp",), main="a.cpp")
GiB = 1 << 30


def compiles(*outcomes: JobResult):
    """A handler answering successive compiles with ``outcomes`` (then success), writing a program on success."""
    queue = list(outcomes)

    def handle(job: RunJob | CompareJob, box: FakeBox) -> JobResult:
        assert is_compile(job)
        got = queue.pop(0) if queue else proc()
        if got.procs and got.procs[0].status == ProcStatus.OK:
            box.write(f"{job.procs[0].rw_binds['/box']}/prog", b"\x7fELF fake")
        return got
    return handle


def entries(cache: Path) -> list[Path]:
    return [p for p in (cache / "compile").glob("*/*") if not p.name.startswith(".")]


def compile_twice(tmp_path: Path, *outcomes: JobResult) -> tuple[FakeBox, Compiler]:
    box = FakeBox(compiles(*outcomes))
    return box, Compiler(box, cache_dir=tmp_path / "cache")


TRANSIENT = {
    "killed from outside": (proc(ProcStatus.SG, signal=9, cpu_s=0.3), "killed from outside (signal 9)"),
    "disk full": (proc(ProcStatus.RE, exit_code=1, stderr="a.cpp: fatal error: error writing to /tmp/cc.s: "
                                                        "No space left on device"), "out of disk space"),
    "host out of memory": (proc(ProcStatus.RE, exit_code=1, memory_bytes=40 << 20,
                                stderr="cc1plus: out of memory allocating 65536 bytes"), "ran out of memory"),
    "cc1plus killed": (proc(ProcStatus.RE, exit_code=1, memory_bytes=30 << 20,
                            stderr="g++: fatal error: Killed signal terminated program cc1plus"), "lost a process"),
    "loaded machine": (proc(ProcStatus.TLE_WALL, cpu_s=2.0, wall_s=41.0), "a loaded machine"),
    "box setup": (proc(ProcStatus.XX, message="sandbox setup failed: cgroup mkdir"), "failed to set up"),
    "bubblewrap failed": (proc(ProcStatus.RE, exit_code=1, stderr="bwrap: Can't find source path /tmp/x/ioi-eval-0/box"
                                                                  "/work/1: Permission denied"), "sandbox failed"),
    "box error": (JobResult(error="executor lost the work folder"), "could not run the compile"),
}


@pytest.mark.parametrize("case", list(TRANSIENT))
def test_a_transient_compile_failure_is_retried_once_then_a_judge_error_never_cached(tmp_path: Path,
                                                                                     case: str) -> None:
    outcome, cause = TRANSIENT[case]
    box, compiler = compile_twice(tmp_path, outcome, outcome)
    with pytest.raises(JudgeError, match="failed 2 times for a reason outside the submission") as err:
        compiler.compile(UNIT)
    assert cause in str(err.value)
    assert len(box.jobs) == 2 and entries(tmp_path / "cache") == []


def test_a_transient_failure_then_a_good_compile_is_a_program_and_cached(tmp_path: Path) -> None:
    box, compiler = compile_twice(tmp_path, TRANSIENT["killed from outside"][0])
    res, prog = compiler.compile(UNIT)
    assert res.ok and prog is not None and len(box.jobs) == 2
    assert len(entries(tmp_path / "cache")) == 1


def test_a_genuine_compile_error_is_a_ce_and_cached(tmp_path: Path) -> None:
    ce = proc(ProcStatus.RE, exit_code=1, stderr="a.cpp:1:1: error: expected ';' before '}' token")
    box, compiler = compile_twice(tmp_path, ce)
    res, prog = compiler.compile(UNIT)
    assert not res.ok and prog is None and "expected ';'" in res.message and len(box.jobs) == 1
    assert len(entries(tmp_path / "cache")) == 1
    again, _ = compiler.compile(UNIT)
    assert again.cached and not again.ok and len(box.jobs) == 1  # from the cache: no second compile


@pytest.mark.parametrize("outcome", [
    proc(ProcStatus.TLE_CPU, cpu_s=20.5, wall_s=21.0),
    proc(ProcStatus.MLE, memory_bytes=GiB + 1),
    proc(ProcStatus.RE, exit_code=1, memory_bytes=900 << 20, stderr="cc1plus: out of memory allocating 1 bytes"),
], ids=["cpu limit", "memory limit", "out of memory at the limit"])
def test_a_limit_ce_is_a_ce_but_not_cached(tmp_path: Path, outcome: JobResult) -> None:
    box, compiler = compile_twice(tmp_path, outcome, outcome)
    res, _ = compiler.compile(UNIT)
    assert not res.ok and len(box.jobs) == 1
    assert entries(tmp_path / "cache") == []
    again, _ = compiler.compile(UNIT)
    assert not again.ok and not again.cached and len(box.jobs) == 2  # compiled again: nothing was cached


def test_an_os_error_of_a_full_disk_while_writing_is_transient(tmp_path: Path) -> None:
    class FullBox(FakeBox):
        fails = 1

        def promote(self, box_path: str, executable: bool = False) -> str:
            if self.fails:
                self.fails -= 1
                raise OSError(28, "No space left on device")
            return super().promote(box_path, executable)

    box = FullBox(compiles())
    res, prog = Compiler(box, cache_dir=tmp_path / "cache").compile(UNIT)
    assert res.ok and prog is not None and len(box.jobs) == 2


def test_transient_cause_reads_only_what_no_limit_explains() -> None:
    lim = UNTRUSTED_LIMITS
    assert transient_cause(ProcResult(status=ProcStatus.OK), lim) is None
    assert transient_cause(ProcResult(status=ProcStatus.RE, exit_code=1, stderr="error: x"), lim) is None
    assert transient_cause(ProcResult(status=ProcStatus.TLE_WALL, cpu_s=lim.cpu_s + 1), lim) is None
    assert transient_cause(ProcResult(status=ProcStatus.TLE_CPU, cpu_s=lim.cpu_s + 1), lim) is None
    assert transient_cause(ProcResult(status=ProcStatus.SG, signal=9), lim) is not None
    # a source line quoted by the compiler is indented: only bubblewrap's own lines start with "bwrap: "
    quoted = "a.cpp:1:1: error: 'bwrap' does not name a type\n    1 | bwrap: x\n      | ^~~~~"
    assert transient_cause(ProcResult(status=ProcStatus.RE, exit_code=1, stderr=quoted), lim) is None


def test_the_judge_never_makes_a_ce_of_a_killed_compile(tmp_path: Path) -> None:
    from tests.unit.judge.test_judge_logic import CPP, _problem

    killed = proc(ProcStatus.SG, signal=9)
    backend = FakeBackend(lambda job, box: killed)
    judge = Judge(backend, workers=1, cache_dir=tmp_path / "cache", use_cache=True)
    with judge, pytest.raises(JudgeError, match="killed from outside"):
        judge.judge(_problem(tmp_path), CPP)
    assert len(backend.boxes[0].jobs) == 2 and entries(tmp_path / "cache") == []


# -- checkers and managers that print garbage --------------------------------------------------------

def test_a_testlib_checker_with_unreadable_points_is_a_checker_failure() -> None:
    with pytest.raises(CheckerFailure, match="not a number"):
        checkers.testlib_outcome(ProcStatus.RE, 7, "points 1.2.3", "")


def test_a_manager_printing_garbage_is_se_even_when_a_user_died(tmp_path: Path) -> None:
    """A broken manager closes its pipes: the user dies of SIGPIPE. That is the manager's SE, not the user's RE."""
    def handle(job: RunJob | CompareJob, box: FakeBox) -> JobResult:
        assert isinstance(job, RunJob)
        if is_compile(job):
            box.write(f"{job.procs[0].rw_binds['/box']}/prog", b"\x7fELF fake")
            return proc()
        users = [ProcResult(status=ProcStatus.SG, signal=13, message="Execution killed by signal 13")
                 for _ in job.procs[1:]]
        return JobResult(procs=[ProcResult(status=ProcStatus.OK, stdout="the answer is yes\n"), *users])

    problem = load_problem(PROBLEMS / "summit")
    sub = Submission(name="summit.cpp", language="cpp", source=b"int main() {}\n")
    judge = Judge(FakeBackend(handle), workers=1, cache_dir=tmp_path / "cache", use_cache=False)
    with judge:
        r = judge.judge(problem, sub, skip=False)
    assert r.verdicts() == {Verdict.SE}
    assert "manager printed no score" in r.tests[0].message
