"""End-to-end judging of small synthetic packages: every verdict, skipping, caching, JSON CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.sources.loader import load_problem

CORRECT = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}\n"
OVERFLOW = "#include <cstdio>\nint main(){int a,b;scanf(\"%d %d\",&a,&b);printf(\"%d\\n\",a+b);}\n"


def _judge(judge, package: Path, source: str, tmp_path: Path, suffix: str = ".cpp"):
    sol = tmp_path / f"sol{suffix}"
    sol.write_text(source)
    prob = load_problem(package)
    return judge.judge(prob, Submission.from_path(sol, TASK_TYPES[prob.task_type].takes_code))


def test_accepted(judge, sum_package: Path, tmp_path: Path) -> None:
    r = _judge(judge, sum_package, CORRECT, tmp_path)
    assert r.compile.ok and r.score == 100 and r.verdicts() == {Verdict.AC}
    assert [s.score for s in r.subtasks] == [0, 40, 60]
    assert all(t.memory_bytes > 0 for t in r.tests)


def test_wrong_answer_and_skipping(judge, sum_package: Path, tmp_path: Path) -> None:
    r = _judge(judge, sum_package, OVERFLOW, tmp_path)
    by = {t.name: t for t in r.tests}
    assert by["2-01"].verdict == Verdict.WA
    assert [s.score for s in r.subtasks] == [0, 40, 0] and r.score == 40
    assert r.subtasks[2].status == Verdict.WA
    # 2-02 belongs only to the zeroed subtask: skipped (with 1 worker it is never started).
    if judge.box.workers == 1:
        assert by["2-02"].verdict == Verdict.SKIPPED


def test_python_accepted(judge, sum_package: Path, tmp_path: Path) -> None:
    r = _judge(judge, sum_package, "a, b = map(int, input().split())\nprint(a + b)\n", tmp_path, ".py")
    assert r.score == 100, [t.message for t in r.tests]


def test_python_syntax_error_is_ce(judge, sum_package: Path, tmp_path: Path) -> None:
    r = _judge(judge, sum_package, "def f(:\n  pass\n", tmp_path, ".py")
    assert not r.compile.ok and "SyntaxError" in r.compile.message
    assert r.score == 0 and r.verdicts() == {Verdict.CE}


def test_cpp_compile_error_is_ce(judge, sum_package: Path, tmp_path: Path) -> None:
    r = _judge(judge, sum_package, "int main( { return 0; }\n", tmp_path)
    assert not r.compile.ok and "error" in r.compile.message
    assert {s.status for s in r.subtasks} == {Verdict.CE}


@pytest.mark.parametrize(
    ("source", "verdict"),
    [
        ("int main(){volatile unsigned long x=0; for(;;) x++;}", Verdict.TLE),
        ("#include <unistd.h>\nint main(){sleep(100);}", Verdict.TLE),
        ("#include <cstdlib>\n#include <cstring>\nint main(){for(;;){char*p=(char*)malloc(1<<20);"
         "memset(p,1,1<<20);}}", Verdict.MLE),
        ("static char a[1<<30]; int main(){for(int i=0;i<(1<<30);i+=4096)a[i]=1; return a[77];}", Verdict.MLE),
        ("#include <cstdlib>\nint main(){abort();}", Verdict.RE),
        ("int main(){return 3;}", Verdict.RE),
        ("int main(){int*p=nullptr; return *p;}", Verdict.RE),
        ("#include <cstdio>\nint main(){static char b[1<<16]; for(;;) fwrite(b,1,sizeof b,stdout);}", Verdict.OLE),
    ],
    ids=["cpu-spin", "sleep", "heap-bomb", "static-array", "abort", "exit-code", "segfault", "output-flood"],
)
def test_failure_verdicts(judge, sum_package: Path, tmp_path: Path, source: str, verdict: Verdict) -> None:
    r = _judge(judge, sum_package, source, tmp_path)
    first = r.tests[0]
    assert first.verdict == verdict, first
    assert r.score == 0


def test_tle_message_says_which_limit(judge, sum_package: Path, tmp_path: Path) -> None:
    r = _judge(judge, sum_package, "#include <unistd.h>\nint main(){sleep(100);}", tmp_path)
    assert "wall" in r.tests[0].message
    r = _judge(judge, sum_package, "int main(){volatile int x=0; for(;;) x++;}", tmp_path)
    assert "CPU" in r.tests[0].message and r.tests[0].cpu_s >= 1.0


def test_deep_recursion_is_fine(judge, sum_package: Path, tmp_path: Path) -> None:
    src = ("#include <cstdio>\nlong long f(int n){volatile char pad[64]; pad[0]=1; return n? f(n-1)+pad[0]:0;}\n"
           "int main(){long long a,b;scanf(\"%lld %lld\",&a,&b); if(f(1000000)<0) return 1;"
           "printf(\"%lld\\n\",a+b);}")
    r = _judge(judge, sum_package, src, tmp_path)
    assert r.score == 100, r.tests[0]


def test_compile_cache_hits(judge, sum_package: Path, tmp_path: Path) -> None:
    src = CORRECT + "// cache probe\n"
    first = _judge(judge, sum_package, src, tmp_path)
    second = _judge(judge, sum_package, src, tmp_path)
    assert not first.compile.cached and second.compile.cached and second.score == first.score


def test_cli_json(sum_package: Path, tmp_path: Path) -> None:
    sol = tmp_path / "s.cpp"
    sol.write_text(CORRECT)
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "--problem", str(sum_package),
                          "--solution", str(sol), "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert set(data) >= {"problem", "score", "max_score", "compile", "subtasks", "tests"}
    assert data["score"] == 100 and data["compile"]["ok"] is True
    assert set(data["tests"][0]) >= {"name", "verdict", "score", "cpu_s", "wall_s", "memory_bytes", "message"}
    assert set(data["subtasks"][0]) >= {"name", "points", "score", "status"}


def test_cli_bad_arguments(sum_package: Path, tmp_path: Path) -> None:
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "--problem", str(tmp_path / "nope"),
                          "--solution", str(tmp_path / "x.cpp")], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "no such file" in res.stderr


def test_named_input_output_files(judge, tmp_path: Path) -> None:
    from tests.conftest import write_package

    pkg = write_package(
        tmp_path / "files",
        problem={"code": "files", "name": "Files", "time_limit": 1.0, "memory_limit": 256 << 20,
                 "task_type": "Batch",
                 "task_type_params": {"input_file": "input.txt", "output_file": "output.txt"}},
        subtasks={"01": {"score": 100, "testcases": ["a", "b"]}},
        tests={"a": ("2 3\n", "5\n"), "b": ("10 -1\n", "9\n")},
    )
    src = ('#include <cstdio>\nint main(){FILE*i=fopen("input.txt","r");FILE*o=fopen("output.txt","w");'
           'long long a,b; if(!i||!o) return 5; fscanf(i,"%lld %lld",&a,&b); fprintf(o,"%lld\\n",a+b);}')
    r = _judge(judge, pkg, src, tmp_path)
    assert r.score == 100, [t.message for t in r.tests]
    r = _judge(judge, pkg, CORRECT, tmp_path)  # writes to stdout instead: nothing in output.txt
    assert r.score == 0


def test_standard_checker_and_package_checker_failure(judge, tmp_path: Path) -> None:
    from tests.conftest import write_package

    base = {"name": "F", "time_limit": 1.0, "memory_limit": 256 << 20, "task_type": "Batch"}
    floats = write_package(
        tmp_path / "floats", problem={**base, "code": "floats", "checker": {"standard": "floats", "abs_tol": 1e-3}},
        subtasks={"01": {"score": 100, "testcases": ["a"]}}, tests={"a": ("\n", "3.14159\n")})
    r = _judge(judge, floats, '#include <cstdio>\nint main(){puts("3.1414");}', tmp_path)
    assert r.score == 100
    r = _judge(judge, floats, '#include <cstdio>\nint main(){puts("3.1");}', tmp_path)
    assert r.score == 0 and r.tests[0].verdict == Verdict.WA
    broken = write_package(
        tmp_path / "broken", problem={**base, "code": "broken"},
        subtasks={"01": {"score": 100, "testcases": ["a"]}}, tests={"a": ("\n", "1\n")},
        files={"checker/checker.cpp": "#include <cstdlib>\nint main(){abort();}\n"})
    r = _judge(judge, broken, '#include <cstdio>\nint main(){puts("1");}', tmp_path)
    assert r.tests[0].verdict == Verdict.SE and r.has_system_error
    assert "checker failed" in r.tests[0].message
    liar = write_package(
        tmp_path / "liar", problem={**base, "code": "liar"},
        subtasks={"01": {"score": 100, "testcases": ["a"]}}, tests={"a": ("\n", "1\n")},
        files={"checker/checker.cpp": '#include <cstdio>\nint main(){puts("1.5");}\n'})
    r = _judge(judge, liar, '#include <cstdio>\nint main(){puts("1");}', tmp_path)
    assert r.tests[0].verdict == Verdict.SE and "outside [0, 1]" in r.tests[0].message


def test_cli_exit_status_on_system_error(tmp_path: Path) -> None:
    from tests.conftest import write_package

    pkg = write_package(
        tmp_path / "broken", problem={"code": "broken", "name": "B", "time_limit": 1.0,
                                      "memory_limit": 256 << 20, "task_type": "Batch"},
        subtasks={"01": {"score": 100, "testcases": ["a"]}}, tests={"a": ("\n", "1\n")},
        files={"checker/checker.cpp": "int main(){return 3;}\n"})
    sol = tmp_path / "s.cpp"
    sol.write_text('#include <cstdio>\nint main(){puts("1");}')
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "judge", "--problem", str(pkg),
                          "--solution", str(sol), "--json"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 1 and "SE" in res.stderr
    assert json.loads(res.stdout)["tests"][0]["verdict"] == "SE"


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        ('#include "/dev/random"\nint main(){}', "timed out|memory limit"),
        ('#include "/etc/shadow"\nint main(){}', "No such file"),
        ("template<int N> struct F { static const int v = F<N-1>::v + F<N-2>::v; };\n"
         "int main(){ return F<100000>::v; }", "error"),
        ("#define A x x x x x x x x x x\n#define B A A A A A A A A A A\n#define C B B B B B B B B B B\n"
         "#define D C C C C C C C C C C\n#define E D D D D D D D D D D\nint main(){ E E E E E E E E E E }",
         "error"),
    ],
    ids=["dev-random", "etc-shadow", "template-bomb", "error-flood"],
)
def test_compile_time_attacks_are_ce(judge, sum_package: Path, tmp_path: Path, monkeypatch, source: str,
                                     needle: str) -> None:
    from ioi_box.protocol import Limits

    from ioi_eval.judge import compiler

    monkeypatch.setattr(compiler, "UNTRUSTED_LIMITS", Limits(cpu_s=4, wall_s=9, memory_bytes=1 << 30,
                                                             output_bytes=8 << 20, processes=64))
    r = _judge(judge, sum_package, source + f"\n// {tmp_path.name}\n", tmp_path)
    assert not r.compile.ok and r.verdicts() == {Verdict.CE}
    assert re.search(needle, r.compile.message), r.compile.message[:500]
    assert len(r.compile.message) < 70 << 10


def test_doctor_reports_mechanisms() -> None:
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "doctor", "--overhead"], capture_output=True,
                         text=True, timeout=120, env={**__import__("os").environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    for needle in ("namespaces", "cgroups", "memory accounting", "CPU accounting", "g++", "sandbox overhead"):
        assert needle in res.stdout, res.stdout


def test_rlimits_fallback_gives_the_same_verdicts(sum_package: Path, tmp_path: Path) -> None:
    """Where namespaces are unavailable the judge degrades to rlimits + cgroups, same verdicts."""
    from ioi_eval.judge.judge import Judge

    cases = {CORRECT: (100, {Verdict.AC}), OVERFLOW: (40, None),
             "int main(){volatile int x=0; for(;;) x++;}": (0, Verdict.TLE),
             "int main(){int*p=nullptr; return *p;}": (0, Verdict.RE),
             "#include <cstdlib>\n#include <cstring>\nint main(){for(;;){char*p=(char*)malloc(1<<20);"
             "memset(p,1,1<<20);}}": (0, Verdict.MLE)}
    with Judge(cache_dir=tmp_path / "cache", isolation="rlimits") as j:
        assert j.box.isolation_note == "rlimits requested"
        for src, (score, verdict) in cases.items():
            r = _judge(j, sum_package, src, tmp_path)
            assert r.score == score, (src, [t.message for t in r.tests])
            if isinstance(verdict, Verdict):
                assert r.tests[0].verdict == verdict, (src, r.tests[0])


def test_communication_sums_user_cpu_times(judge, tmp_path: Path) -> None:
    """Two user processes each under the time limit but together over it: TLE (as CMS)."""
    from tests.conftest import PROBLEMS

    model = (PROBLEMS / "relay" / "solutions" / "model_solution" / "rank.cpp").read_text()
    burn = ("#include <ctime>\nstatic void burn_once(){ static bool done=false; if(done) return; done=true;"
            " volatile unsigned long x=0; while ((double)clock()/CLOCKS_PER_SEC < 0.65) x++; }\n")
    src = burn + model.replace("void encode(int N, std::vector<int> P) {",
                               "void encode(int N, std::vector<int> P) { burn_once();")
    src = src.replace("std::vector<int> decode(int N, std::vector<int> bits) {",
                      "std::vector<int> decode(int N, std::vector<int> bits) { burn_once();")
    prob = load_problem(PROBLEMS / "relay")
    sol = tmp_path / "burn.cpp"
    sol.write_text(src)
    r = judge.judge(prob, Submission.from_path(sol, TASK_TYPES[prob.task_type].takes_code))
    first = r.tests[0]
    assert first.verdict == Verdict.TLE and "total CPU time" in first.message, first
    assert 1.0 < first.cpu_s < 2.0


def test_unwritable_compile_cache_only_warns(sum_package: Path, tmp_path: Path) -> None:
    from ioi_eval.judge.judge import Judge

    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "compile").write_text("not a folder")  # every cache write fails
    with Judge(cache_dir=cache) as j, pytest.warns(UserWarning, match="compile cache"):
        r = _judge(j, sum_package, CORRECT + "// unwritable cache\n", tmp_path)
    assert r.score == 100
