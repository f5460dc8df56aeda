"""The Judge's own logic on a FakeBox (no sandbox, nothing runs): scoring, skipping after a zero, SE handling,
and the commands the languages give the box."""

from __future__ import annotations

from pathlib import Path

import pytest
from ioi_box.protocol import CompareJob, JobResult, ProcStatus, RunJob

from ioi_eval.errors import JudgeError
from ioi_eval.judge.judge import Judge
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types.base import RERUN_NOTE
from ioi_eval.problem.model import Problem
from ioi_eval.sources.loader import load_problem
from tests.fixtures.fake_box import FAKE_GXX, FakeBackend, FakeBox, compared, is_compile, proc

TESTS = {"0-01": ("1 2\n", "3\n"), "1-01": ("5 6\n", "11\n"), "1-02": ("0 0\n", "0\n"),
         "2-01": ("2000000000 2000000000\n", "4000000000\n"), "2-02": ("-7 3\n", "-4\n")}
CPP = Submission(name="s.cpp", language="cpp", source=b"int main() {}\n")


def _problem(tmp_path: Path, score_type: str = "GroupMin") -> Problem:
    from ioi_eval.problem.writer import write_plain_package as write_package

    root = write_package(
        tmp_path / "sum",
        problem={"code": "sum", "name": "Sum", "time_limit": 1.0, "memory_limit": 256 << 20,
                 "score_precision": 2, "task_type": "Batch", "score_type": score_type},
        subtasks={"00-samples": {"score": 0, "testcases": ["0-01"]},
                  "01-small": {"score": 40, "testcases": ["0-01", "1-01", "1-02"]},
                  "02-big": {"score": 60, "testcases": ["1-01", "2-01", "2-02"]}},
        tests=TESTS)
    return load_problem(root)


def program(answer, compile_result: JobResult | None = None):
    """A handler modelling a program: ``answer(input) -> output bytes | JobResult`` for each test run.

    Compiles succeed (writing a program) unless ``compile_result`` says otherwise; comparisons
    compare tokens, as white-diff does.
    """
    def handle(job: RunJob | CompareJob, box: FakeBox) -> JobResult:
        if isinstance(job, CompareJob):
            same = box.read_bytes(job.expected).split() == box.read_bytes(job.output).split()
            return compared(1.0 if same else 0.0)
        p = job.procs[0]
        if is_compile(job) or p.argv[:2] == ["/usr/bin/python3", "-I"]:
            if compile_result is not None:
                return compile_result
            box.write(f"{p.rw_binds['/box']}/prog", b"\x7fELF fake")
            return proc()
        got = answer(box.read_bytes(p.stdin))
        if isinstance(got, JobResult):
            return got
        box.write(p.stdout, got)
        return proc(cpu_s=0.01, wall_s=0.02, memory_bytes=1 << 20)
    return handle


def add(inp: bytes) -> bytes:
    a, b = map(int, inp.split())
    return f"{a + b}\n".encode()


def add_int32(inp: bytes) -> bytes:
    a, b = map(int, inp.split())
    return f"{(a + b + 2**31) % 2**32 - 2**31}\n".encode()


def runs_of(box: FakeBox) -> list[bytes]:
    """The inputs of the test runs the box executed, in order."""
    return [box.read_bytes(j.procs[0].stdin) for j in box.jobs
            if isinstance(j, RunJob) and j.procs[0].stdin is not None]


def _judge(handler, tmp_path: Path, workers: int = 1) -> tuple[Judge, FakeBackend]:
    backend = FakeBackend(handler)
    return Judge(backend, workers=workers, cache_dir=tmp_path / "cache", use_cache=False), backend


def test_all_correct_scores_every_subtask(tmp_path: Path) -> None:
    judge, backend = _judge(program(add), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    assert r.compile.ok and r.score == 100 and r.verdicts() == {Verdict.AC}
    assert [s.score for s in r.subtasks] == [0, 40, 60]
    assert [t.name for t in r.tests] == ["0-01", "1-01", "1-02", "2-01", "2-02"]
    box = backend.boxes[0]
    assert len(runs_of(box)) == 5  # 1-01 is in two subtasks but runs once
    assert box.closed


def test_a_zero_skips_the_rest_of_its_subtask(tmp_path: Path) -> None:
    judge, backend = _judge(program(add_int32), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    by = {t.name: t for t in r.tests}
    assert by["2-01"].verdict == Verdict.WA and by["2-02"].verdict == Verdict.SKIPPED
    assert [s.score for s in r.subtasks] == [0, 40, 0] and r.score == 40
    assert r.subtasks[2].status == Verdict.WA
    assert b"-7 3\n" not in runs_of(backend.boxes[0])  # 2-02 never reached the box


def test_skip_false_runs_every_test(tmp_path: Path) -> None:
    judge, backend = _judge(program(add_int32), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP, skip=False)
    assert {t.name: t.verdict for t in r.tests}["2-02"] == Verdict.AC
    assert len(runs_of(backend.boxes[0])) == 5 and r.score == 40


def test_sum_scoring_never_skips(tmp_path: Path) -> None:
    judge, _ = _judge(program(add_int32), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path, "Sum"), CPP)
    assert Verdict.SKIPPED not in r.verdicts()
    assert [s.score for s in r.subtasks] == [0, 40, 40]  # 2 of 3 tests of 02-big


def test_a_box_error_is_an_se_that_decides_nothing(tmp_path: Path) -> None:
    def answer(inp: bytes) -> bytes | JobResult:
        return JobResult(error="the box broke") if inp == b"2000000000 2000000000\n" else add(inp)

    judge, _ = _judge(program(answer), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    by = {t.name: t for t in r.tests}
    assert by["2-01"].verdict == Verdict.SE and "the box broke" in by["2-01"].message
    assert by["2-02"].verdict == Verdict.AC  # an SE is no zero: the subtask's other tests still run
    assert r.subtasks[2].status == Verdict.SE and r.subtasks[2].score == 0 and r.score == 40


def test_a_judge_error_in_a_test_is_an_se_not_an_exception(tmp_path: Path) -> None:
    def answer(inp: bytes) -> bytes:
        if inp == b"0 0\n":
            raise JudgeError("blob lost")
        return add(inp)

    judge, _ = _judge(program(answer), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    by = {t.name: t for t in r.tests}
    assert by["1-02"].verdict == Verdict.SE and by["1-02"].message == "blob lost"
    assert r.subtasks[1].status == Verdict.SE and r.subtasks[2].score == 60


def test_a_failed_comparison_is_an_se(tmp_path: Path) -> None:
    inner = program(add)

    def handle(job: RunJob | CompareJob, box: FakeBox) -> JobResult:
        return JobResult(error="comparator crashed") if isinstance(job, CompareJob) else inner(job, box)

    judge, _ = _judge(handle, tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    assert r.verdicts() == {Verdict.SE} and r.score == 0
    assert "comparison failed: comparator crashed" in r.tests[0].message


def test_a_compile_error_fails_every_test_without_running_one(tmp_path: Path) -> None:
    failed = proc(ProcStatus.RE, exit_code=1, stderr="sum.cpp:1: error: expected ';'")
    judge, backend = _judge(program(add, compile_result=failed), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    assert not r.compile.ok and "expected ';'" in r.compile.message
    assert r.verdicts() == {Verdict.CE} and r.score == 0
    assert runs_of(backend.boxes[0]) == []


def test_a_failed_run_gets_its_verdict(tmp_path: Path) -> None:
    tle = proc(ProcStatus.TLE_CPU, cpu_s=1.5, message="Execution timed out")
    judge, _ = _judge(program(lambda inp: tle if inp == b"5 6\n" else add(inp)), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    by = {t.name: t for t in r.tests}
    assert by["1-01"].verdict == Verdict.TLE and by["1-01"].cpu_s == 1.5
    assert [s.status for s in r.subtasks] == [Verdict.AC, Verdict.TLE, Verdict.TLE] and r.score == 0


def _wall_tle(cpu_s: float) -> JobResult:
    return proc(ProcStatus.TLE_WALL, cpu_s=cpu_s, wall_s=3.0, wait_s=2.5, message="Execution timed out (wall)")


def test_a_wall_tle_under_the_cpu_limit_is_run_again_once_and_says_so(tmp_path: Path) -> None:
    """The first run of 5 6 is starved (wall TLE with 0.3 s of CPU under a 1 s limit); its re-run passes."""
    seen: list[bytes] = []

    def answer(inp: bytes) -> bytes | JobResult:
        seen.append(inp)
        return _wall_tle(0.3) if inp == b"5 6\n" and seen.count(inp) == 1 else add(inp)

    judge, _ = _judge(program(answer), tmp_path)
    with judge:
        r = judge.judge(_problem(tmp_path), CPP)
    by = {t.name: t for t in r.tests}
    assert seen.count(b"5 6\n") == 2 and seen.count(b"1 2\n") == 1
    assert by["1-01"].verdict == Verdict.AC and RERUN_NOTE in by["1-01"].message
    assert RERUN_NOTE not in by["0-01"].message and r.score == 100


def test_a_wall_tle_stays_tle_after_its_one_rerun(tmp_path: Path) -> None:
    seen: list[bytes] = []

    def answer(inp: bytes) -> bytes | JobResult:
        seen.append(inp)
        return _wall_tle(0.01) if inp == b"5 6\n" else add(inp)

    judge, _ = _judge(program(answer), tmp_path)
    with judge:
        by = {t.name: t for t in judge.judge(_problem(tmp_path), CPP).tests}
    assert seen.count(b"5 6\n") == 2
    assert by["1-01"].verdict == Verdict.TLE and by["1-01"].message == f"Execution timed out (wall) ({RERUN_NOTE})"


@pytest.mark.parametrize("result", [proc(ProcStatus.TLE_CPU, cpu_s=1.5), _wall_tle(1.2)], ids=["cpu-tle", "cpu-over"])
def test_a_tle_with_cpu_time_over_the_limit_is_not_run_again(tmp_path: Path, result: JobResult) -> None:
    seen: list[bytes] = []

    def answer(inp: bytes) -> bytes | JobResult:
        seen.append(inp)
        return result if inp == b"5 6\n" else add(inp)

    judge, _ = _judge(program(answer), tmp_path)
    with judge:
        by = {t.name: t for t in judge.judge(_problem(tmp_path), CPP).tests}
    assert seen.count(b"5 6\n") == 1
    assert by["1-01"].verdict == Verdict.TLE and RERUN_NOTE not in by["1-01"].message


def test_the_box_is_asked_with_the_languages_commands(tmp_path: Path) -> None:
    judge, backend = _judge(program(add), tmp_path)
    problem = _problem(tmp_path)
    py = Submission(name="s.py", language="python", source=b"print(sum(map(int, input().split())))\n")
    with judge:
        assert judge.judge(problem, CPP).score == 100
        assert judge.judge(problem, py).score == 100
    jobs = [j for j in backend.boxes[0].jobs if isinstance(j, RunJob)]
    cpp_compile, cpp_run = jobs[0].procs[0], jobs[1].procs[0]
    # The box's own compiler and precompiled header (its info), the submission named after the task.
    assert cpp_compile.argv[0] == FAKE_GXX and "-I/fake/pch" in cpp_compile.argv
    assert cpp_compile.argv[-1] == "/src/sum.cpp" and "-DEVAL" in cpp_compile.argv
    assert cpp_run.argv == ["/box/prog"] and set(cpp_run.binds) == {"/box/prog"}
    py_jobs = jobs[6:]
    py_check, py_run = py_jobs[0].procs[0], py_jobs[1].procs[0]
    assert py_check.argv[:2] == ["/usr/bin/python3", "-I"] and py_check.argv[-1] == "/src/sum.py"
    assert py_run.argv == ["/usr/bin/python3", "-B", "/box/sum.py"] and "/box/sum.py" in py_run.binds


def test_backend_options_go_with_a_name_only(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="backend options \\(isolation\\)"):
        Judge(FakeBackend(program(add)), isolation="rlimits")
    backend = FakeBackend(program(add))
    with Judge(backend, workers=3) as judge:
        assert judge.backend is backend and judge.box.workers == 3


# -- the pieces the judge asks: languages, the checker factory, the local box's description ---------

def test_languages_own_their_names_and_commands() -> None:
    from ioi_eval.judge.languages import LANGUAGES, Cpp, Python

    cpp, py = LANGUAGES["cpp"], LANGUAGES["python"]
    assert isinstance(cpp, Cpp) and isinstance(py, Python)
    assert (cpp.source_name("sum"), py.source_name("grader")) == ("sum.cpp", "grader.py")
    assert cpp.builds_program and not py.builds_program and py.pch_header is None
    assert cpp.compile_command(["/src/a.cpp", "/src/b.cpp"], "/box/prog", ["-O2"], ["/pch", "/src"], "/usr/bin/g") == [
        "/usr/bin/g", "-O2", "-I/pch", "-I/src", "-o", "/box/prog", "/src/a.cpp", "/src/b.cpp"]
    assert cpp.compile_flags(["-O2"], ["A=1"]) == ("-O2", "-DA=1") and py.compile_flags(["-O2"], ["A=1"]) == ()
    assert cpp.run_command("/box/prog") == ("/box/prog",)
    assert py.run_command("/box/m.py") == ("/usr/bin/python3", "-B", "/box/m.py")
    check = py.compile_command(["/src/a.py", "/src/b.py"], "/box/prog")
    assert check[:3] == ["/usr/bin/python3", "-I", "-c"] and check[4:] == ["/src/a.py", "/src/b.py"]
    assert "sys.argv[1]" in check[3] and "sys.argv[2]" in check[3] and "\n" not in check[3]
    assert py.add_includes(b"x = 1\n", "sum.h") == b"x = 1\n"
    assert cpp.add_includes(b"int main() {}\n", "sum.h").startswith(b'#include <bits/stdc++.h>\n#include "sum.h"\n')


def test_make_checker_chooses_by_the_spec(tmp_path: Path) -> None:
    from ioi_eval.judge.checkers import (
        CHECKER_PATH,
        VALIDATOR_PATH,
        KattisValidator,
        ProgramChecker,
        StandardChecker,
        make_checker,
    )
    from ioi_eval.judge.languages import Program
    from ioi_eval.judge.profile import PROFILES
    from ioi_eval.problem.model import CheckerSpec

    asked: list[tuple[Path, str, str]] = []

    class Programs:
        def trusted_program(self, source: Path, what: str, at: str) -> Program:
            asked.append((source, what, at))
            return Program(argv=("/usr/bin/python3", "-B", at), files={at: "blobs/c"})

    standard = make_checker(CheckerSpec(standard="tokens"), PROFILES["cms"], Programs())
    assert isinstance(standard, StandardChecker) and standard.job("i", "e", "o", "w").comparator == "tokens"
    piston = make_checker(CheckerSpec(standard="tokens"), PROFILES["piston"], Programs())
    assert isinstance(piston, StandardChecker) and piston.job("i", "e", "o", "w").comparator == "diff_b"
    assert asked == []
    src = tmp_path / "checker.py"
    testlib = make_checker(CheckerSpec(source=src, protocol="testlib"), PROFILES["cms"], Programs())
    assert isinstance(testlib, ProgramChecker) and testlib.protocol == "testlib"
    argv = testlib.job("blobs/i", "blobs/e", "work/o", "work").procs[0].argv
    assert argv[:3] == ["/usr/bin/python3", "-B", CHECKER_PATH] and argv[3:] == [
        "/box/input.txt", "/box/output.txt", "/box/correct.txt"]
    kattis = make_checker(CheckerSpec(source=src, protocol="kattis"), PROFILES["cms"], Programs())
    assert isinstance(kattis, KattisValidator)
    assert [a[2] for a in asked] == [CHECKER_PATH, VALIDATOR_PATH]


def test_the_local_box_describes_this_host() -> None:
    from ioi_eval.backends.local import LocalBackend
    from ioi_eval.judge.languages import LANGUAGES

    box = LocalBackend(isolation="rlimits").open(1)
    try:
        assert box.info.isolation == "rlimits" and box.info.workers == box.workers == 1
        assert box.info.tools["cpp"] == LANGUAGES["cpp"].version()  # the same compile cache keys as before
        assert box.info.compilers["cpp"] == LANGUAGES["cpp"].compiler  # type: ignore[attr-defined]
        assert box.info.tools["python"] == LANGUAGES["python"].version()
        assert box.info.pch_include is None  # the compiler builds one on this host
        assert box.host_root is not None and (box.host_root / "work").is_dir()
    finally:
        box.close()


def test_an_unknown_isolation_is_a_clear_error(monkeypatch) -> None:
    from ioi_eval.backends.local import LocalBackend
    from ioi_eval.errors import SandboxError

    with pytest.raises(SandboxError, match="unknown isolation 'zygot'"):
        LocalBackend(isolation="zygot").open(1)
    monkeypatch.setenv("IOI_EVAL_ISOLATION", "bwrapp")
    with pytest.raises(SandboxError, match="unknown isolation 'bwrapp'"):
        LocalBackend().open(1)
