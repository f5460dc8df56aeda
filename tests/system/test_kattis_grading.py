"""Kattis packages scored as their authors say: custom graders over the group tree, tests shared by several
groups run once, score.txt on the samples, and ``judge --problem`` with every kind of problem spec.

Every fixture is written on the fly in the Kattis (or Polygon, or open-r1) layout.
"""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from ioi_eval.cli import app
from ioi_eval.errors import PackageError
from ioi_eval.judge.grading import GradingFailure, default_grader, parse_grader_output
from ioi_eval.judge.results import Verdict
from ioi_eval.judge.submission import Submission
from ioi_eval.sources import KattisSource, resolve_source
from ioi_eval.sources.loader import load_problem
from tests.fixtures import source_fixtures as fx

HAS_GXX = shutil.which("g++") is not None
needs_gxx = pytest.mark.skipif(not HAS_GXX, reason="g++ missing")


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IOI_EVAL_CACHE", str(tmp_path / "cache"))


def imported(src):
    [root] = KattisSource(src).packages()
    return root


def judged(judge, problem, key: str, on_test=None):
    sol = next(s.path for s in problem.solutions if s.key == key)
    return judge.judge(problem, Submission.from_source(sol), on_test=on_test)


# -- the default grader and the grader protocol, without a box -----------------------------------

def test_default_grader():
    lines = [("AC", 10.0), ("WA", 0.0), ("TLE", 0.0), ("AC", 5.0)]
    assert default_grader(lines, []) == ("TLE", 15.0)  # worst error, sum
    assert default_grader(lines, ["first_error", "min"]) == ("WA", 0.0)
    assert default_grader(lines, ["always_accept", "max"]) == ("AC", 10.0)
    assert default_grader(lines, ["avg", "accept_if_any_accepted"]) == ("AC", 3.75)
    assert default_grader([("WA", 1.0), ("AC", 70.0)], ["ignore_sample"]) == ("AC", 70.0)
    assert default_grader([], []) == ("AC", 0.0)
    with pytest.raises(GradingFailure, match="ignore_sample needs one or two items"):
        default_grader(lines, ["ignore_sample"])


def test_grader_output():
    assert parse_grader_output("AC 12.5\n", "g") == ("AC", 12.5)
    assert parse_grader_output("RTE -1", "g") == ("RTE", -1.0)
    for bad in ("", "AC", "OK 1", "AC 1\nAC 2\n", "AC 1 2", "AC 1.2.3"):
        with pytest.raises(GradingFailure, match="g printed"):
            parse_grader_output(bad, "g")
    with pytest.raises(GradingFailure, match="judge error"):
        parse_grader_output("JE 0", "g")


# -- import -----------------------------------------------------------------------------------------

def test_custom_grader_import(tmp_path):
    root = imported(fx.kattis_custom_grader(tmp_path / "graded"))
    p = load_problem(root)
    assert (root / "group_grader" / "grader.cpp").read_text() == fx.KATTIS_GRADER_CPP
    assert not (root / "graders").exists()  # the contestant's compile never sees the grader
    # the symlinked a and b of g2 are g1's tests: five tests, not seven
    assert sorted(p.tests) == ["sample-1", "secret-g1-a", "secret-g1-b", "secret-g2-c", "secret-g2-d"]
    assert [(s.name, s.points, list(s.tests)) for s in p.subtasks] == [
        ("00-samples", 0.0, ["sample-1"]), ("01-g1", 40.0, ["secret-g1-a", "secret-g1-b"]),
        ("02-g2", 60.0, ["secret-g1-a", "secret-g1-b", "secret-g2-c", "secret-g2-d"])]
    tree = json.loads((root / "problem.json").read_text())["grading"]["root"]
    assert (tree["name"], tree["flags"], tree["range"]) == ("data", ["ignore_sample"], [0, 100])
    sample, secret = tree["items"]
    assert (sample["name"], sample["subtask"], sample["items"]) == ("data/sample", 0, ["sample-1"])
    g1, g2 = secret["items"]
    assert (g1["custom"], g1["flags"], g1["range"], g1["subtask"]) == (True, ["40"], [0, 40], 1)
    assert g2["items"] == ["secret-g1-a", "secret-g1-b", "secret-g2-c", "secret-g2-d"]
    assert secret["custom"] is False and "subtask" not in secret


def test_custom_grader_errors(tmp_path):
    src = fx.kattis_custom_grader(tmp_path / "nograder")
    shutil.rmtree(src / "graders")
    with pytest.raises(PackageError, match="grading: custom but graders/ holds no grader"):
        KattisSource(src).packages()
    src = fx.kattis_custom_grader(tmp_path / "norange")
    (src / "data/secret/g1/testdata.yaml").write_text("grading: custom\n")
    (src / "data/secret/testdata.yaml").write_text("on_reject: continue\ngrader_flags: sum\n")
    (src / "data/testdata.yaml").write_text("grader_flags: ignore_sample\n")
    with pytest.raises(PackageError, match=r"custom-graded group .* needs a finite 'range'"):
        KattisSource(src).packages()
    src = fx.kattis_custom_grader(tmp_path / "passfail")
    (src / "problem.yaml").write_text("name: x\n")
    with pytest.raises(PackageError, match="a custom grader, but the problem is pass-fail"):
        KattisSource(src).packages()
    src = fx.kattis_custom_grader(tmp_path / "java")
    shutil.rmtree(src / "graders")
    fx.write(src, {"graders/Grade.java": "class Grade {}\n"})
    with pytest.raises(PackageError, match=r"only C/C\+\+ or single-file Python graders"):
        KattisSource(src).packages()
    src = fx.kattis_custom_grader(tmp_path / "inherited")
    (src / "data/secret/testdata.yaml").write_text("on_reject: continue\nrange: 0 100\n")
    with pytest.raises(PackageError, match=r"ignore_sample.*only at the top level"):
        KattisSource(src).packages()
    src = fx.kattis_custom_grader(tmp_path / "badgrading")
    (src / "data/secret/g1/testdata.yaml").write_text("grading: magic\nrange: 0 40\n")
    with pytest.raises(PackageError, match="unknown grading 'magic'"):
        KattisSource(src).packages()


# -- judged end to end --------------------------------------------------------------------------------

@needs_gxx
@pytest.mark.parametrize("python", [False, True], ids=["cpp-grader", "python-grader"])
def test_custom_grader_scores(judge, tmp_path, python):
    p = load_problem(imported(fx.kattis_custom_grader(tmp_path / "graded", python=python)))
    runs: list[str] = []
    ok = judged(judge, p, "model_solution/sum.cpp", on_test=lambda t: runs.append(t.name))
    assert sorted(runs) == sorted(p.tests)  # each test once, the symlinked ones included
    assert (ok.score, [s.score for s in ok.subtasks]) == (100.0, [0.0, 40.0, 60.0])
    assert [(g.name, g.verdict, g.score) for g in ok.groups] == [
        ("data/sample", Verdict.AC, 0.0), ("data/secret/g1", Verdict.AC, 40.0),
        ("data/secret/g2", Verdict.AC, 60.0), ("data/secret", Verdict.AC, 100.0), ("data", Verdict.AC, 100.0)]
    # off by one when a > 100: g1 all right (40); g2 two of four: 60 * (2/4)^2 = 15
    off = judged(judge, p, "partially_correct/off.cpp")
    assert (off.score, [s.score for s in off.subtasks]) == (55.0, [0.0, 40.0, 15.0])
    assert {g.name: g.verdict for g in off.groups}["data/secret/g2"] == Verdict.WA
    minus = judged(judge, p, "incorrect/minus.py")
    assert (minus.score, minus.has_system_error) == (0.0, False)


@needs_gxx
def test_broken_grader_is_se(judge, tmp_path):
    src = fx.kattis_custom_grader(tmp_path / "crash", python=True)
    (src / "graders/grade.py").write_text("import sys\nsys.exit(3)\n")
    p = load_problem(imported(src))
    report = judged(judge, p, "model_solution/sum.cpp")
    assert report.has_system_error and report.score == 0.0
    bad = report.system_errors()[0]
    assert bad.name == "data/secret/g1" and "grader grader.py failed on group data/secret/g1" in bad.message
    assert report.subtasks[1].status == Verdict.SE
    src = fx.kattis_custom_grader(tmp_path / "garbage", python=True)
    (src / "graders/grade.py").write_text("print('all good')\n")
    report = judged(judge, load_problem(imported(src)), "model_solution/sum.cpp")
    assert "grader grader.py on group data/secret/g1 printed no '<verdict> <score>' line" in \
        report.system_errors()[0].message
    src = fx.kattis_custom_grader(tmp_path / "toomuch", python=True)
    (src / "graders/grade.py").write_text("print('AC 41')\n")
    report = judged(judge, load_problem(imported(src)), "model_solution/sum.cpp")
    assert "gave group data/secret/g1 the score 41, outside its range [0, 40]" in report.system_errors()[0].message


@needs_gxx
def test_samples_counted_without_ignore_sample_is_se(judge, tmp_path):
    src = fx.kattis_custom_grader(tmp_path / "samples")
    (src / "data/testdata.yaml").write_text("on_reject: continue\n")
    (src / "data/sample/testdata.yaml").write_text("grader_flags: first_error\n")  # 1 point a sample
    report = judged(judge, load_problem(imported(src)), "model_solution/sum.cpp")
    assert report.has_system_error and "root group's score 101 is outside [0, 100]" in report.system_errors()[0].message


@needs_gxx
def test_score_txt_on_the_samples(judge, tmp_path):
    """A custom score validator writes score.txt on every test, samples included (worth no points)."""
    src = fx.kattis_legacy_groups(tmp_path / "scored")
    (src / "problem.yaml").write_text("name: Scored\ntype: scoring\nvalidation: custom score\n")
    shutil.rmtree(src / "output_validators/check")
    fx.write(src, {"output_validators/check/validate.py": (
        "import sys\nwant = int(open(sys.argv[2]).read())\ngot = int(sys.stdin.read().split()[0])\n"
        "if got != want:\n    sys.exit(43)\n"
        "open(sys.argv[3] + 'score.txt', 'w').write('30' if want < 100 else '70')\nsys.exit(42)\n")})
    (src / "data/secret/g2/testdata.yaml").write_text("accept_score: 70\nrange: 0 70\ngrader_flags: min\n")
    p = load_problem(imported(src))
    assert p.checker.test_max["sample-1"] == 0.0
    report = judged(judge, p, "model_solution/sum.cpp")
    assert not report.has_system_error, report.system_errors()
    # g1: min(30, 30) = 30; g2: its copy of g1's test scores 30 there too (one score.txt), so min(30, 70) = 30
    assert report.score == 60.0
    sample = next(t for t in report.tests if t.name == "sample-1")
    assert sample.verdict == Verdict.AC and "worth no points" in sample.message


# -- judge --problem with every spec -----------------------------------------------------------------

@needs_gxx
def test_cli_judge_problem_specs(tmp_path):
    runner = CliRunner()
    kat = fx.kattis_custom_grader(tmp_path / "graded")
    sol = kat / "submissions/partially_accepted/off.cpp"
    for spec in (f"kattis:{kat}", str(kat)):
        res = runner.invoke(app, ["judge", "--problem", spec, "--solution", str(sol), "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["score"] == 55.0
    res = runner.invoke(app, ["judge", "--problem", str(kat), "--solution", str(sol)], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and "data/secret/g2" in res.output and "Total: 55 / 100" in res.output, res.output
    poly = fx.polygon_full(tmp_path / "psum")
    for spec in (f"polygon:{poly}", str(poly)):
        res = runner.invoke(app, ["judge", "--problem", spec, "--solution", str(poly / "solutions/sum.cpp"), "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["score"] == 100.0
    pytest.importorskip("datasets")
    from tests.fixtures import openr1_fixtures as ofx

    ok = tmp_path / "sumab.cpp"
    ok.write_text(ofx.SUMAB_OK)
    res = runner.invoke(app, ["judge", "--problem", f"hf:{ofx.save_ioi_dataset(tmp_path / 'hf')}",
                              "--solution", str(ok), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["score"] == 100.0
    fx.kattis_passfail(tmp_path / "set" / "a")
    fx.kattis_passfail(tmp_path / "set" / "b")
    res = runner.invoke(app, ["judge", "--problem", str(tmp_path / "set"), "--solution", str(ok)])
    assert res.exit_code == 2 and "holds 2 problems" in " ".join(res.output.split())


# -- a time limit derived from the accepted submissions ----------------------------------------------

SLOW_DIV_CPP = r"""
#include <cstdio>
#include <ctime>
int main() {
    while (clock() < CLOCKS_PER_SEC * 3 / 10) {}  // 0.3 s of CPU time
    double a, b;
    scanf("%lf %lf", &a, &b);
    printf("%.9f\n", a / b);
}
"""


@needs_gxx
def test_derived_time_limit(tmp_path, monkeypatch):
    from ioi_eval.sources.timelimit import TimeRule

    src = fx.kattis_passfail(tmp_path / "divide")
    (src / ".timelimit").unlink()
    fx.write(src, {"submissions/accepted/slow.cpp": SLOW_DIV_CPP})
    # legacy: time_multiplier 10 and a resolution of 2 s: slowest ~0.3 s -> ceil(3 / 2) * 2 = 4 s
    (src / "problem.yaml").write_text("name: Divide\nvalidator_flags: float_tolerance 1e-6\n"
                                      "limits: {time_multiplier: 10, time_resolution: 2}\n")
    with pytest.raises(PackageError, match=r"no time limit.*time_limit=derive"):
        KattisSource(src).packages()
    [root] = KattisSource(f"{src}?time_limit=derive").packages()
    p = load_problem(root)
    note = json.loads((root / "problem.json").read_text())["imported_from"]["derived_time_limit"]
    assert 0.2 < note["slowest_s"] < 0.4 and note["submission"] == "slow.cpp"
    assert p.time_limit == 4.0 == TimeRule(10, 2).limit(note["slowest_s"])
    # cached: a second load judges nothing
    monkeypatch.setattr("ioi_eval.sources.kattis.derive_time_limit", lambda *a: pytest.fail("derived again"))
    assert resolve_source(f"kattis:{src}?time_limit=derive").packages() == [root]


def test_time_rule_rounding():
    from ioi_eval.sources.timelimit import TimeRule

    assert TimeRule(5).limit(0.01) == 1  # at least one resolution
    assert TimeRule(5).limit(0.3) == 2  # ceil(1.5)
    assert TimeRule(2, 0.5).limit(0.6) == 1.5  # ceil(1.2 / 0.5) * 0.5
    assert TimeRule(2).limit(0.0) == 1


@needs_gxx
def test_derived_time_limit_2023(tmp_path):
    src = fx.kattis_interactive(tmp_path / "guess")
    text = (src / "problem.yaml").read_text().replace("limits: {time_limit: 1}", "limits: {time_multipliers: "
                                                                              "{ac_to_time_limit: 3}}")
    (src / "problem.yaml").write_text(text)
    [root] = KattisSource(f"{src}?time_limit=derive").packages()
    note = json.loads((root / "problem.json").read_text())["imported_from"]["derived_time_limit"]
    assert (note["multiplier"], note["resolution"], load_problem(root).time_limit) == (3.0, 1.0, 1.0)
    with pytest.raises(Exception, match="unknown Kattis option"):
        KattisSource(f"{src}?time_limit=guess")


# -- interactive: the verdict follows which process ended first (problemtools) -----------------------

CRASH_FIRST_CPP = r"""
#include <cstdio>
#include <cstdlib>
int main() {  // one guess; on a wrong one the submission crashes while the validator waits for the next
    char r[4];
    printf("1\n"); fflush(stdout);
    if (scanf("%3s", r) == 1 && r[0] == '=') return 0;
    abort();
}
"""
EOF_CRASH_CPP = r"""
#include <cstdio>
#include <cstdlib>
int main() {  // always guesses 1: the validator gives up first, then the submission crashes on EOF
    char r[4];
    for (;;) {
        printf("1\n"); fflush(stdout);
        if (scanf("%3s", r) != 1) abort();
        if (r[0] == '=') return 0;
    }
}
"""
SPIN_AFTER_CPP = r"""
#include <cstdio>
int main() {  // 20 guesses of 1 without reading the answers, then spins: the validator ends first
    for (int i = 0; i < 20; i++) printf("1\n");
    fflush(stdout);
    for (volatile unsigned long x = 0;; x++) {}
}
"""


@needs_gxx
@pytest.mark.parametrize(("code", "verdicts"), [
    (CRASH_FIRST_CPP, ["RE", "AC", "RE"]),  # the submission ended first: its run-time error
    (EOF_CRASH_CPP, ["WA", "AC", "WA"]),  # the validator rejected first: WA, whatever the submission did next
    (SPIN_AFTER_CPP, ["WA", "TLE", "WA"]),  # WA first, then a TLE: still WA; accepted, then a TLE: TLE
], ids=["submission-first", "validator-first", "validator-first-then-tle"])
def test_interactive_exit_order(judge, tmp_path, code, verdicts):
    p = load_problem(imported(fx.kattis_interactive(tmp_path / "guess")))
    sub = tmp_path / "sub.cpp"
    sub.write_text(code)
    report = judge.judge(p, Submission.from_source(sub), skip=False)
    assert [t.verdict.value for t in report.tests] == verdicts, report.tests


@needs_gxx
def test_grader_that_does_not_compile(tmp_path):
    from ioi_eval.errors import JudgeError
    from ioi_eval.judge.judge import Judge

    src = fx.kattis_custom_grader(tmp_path / "nocompile")
    (src / "graders/grade.cpp").write_text("int main( {\n")
    p = load_problem(imported(src))
    with Judge(cache_dir=tmp_path / "cc") as judge, pytest.raises(JudgeError, match=r"grader .*grader\.cpp.* does not "
                                                                                    "compile"):
        judged(judge, p, "model_solution/sum.cpp")


def test_grading_spec_checked_at_load(tmp_path):
    from tests.conftest import write_package

    def package(grading, files=None):
        return write_package(tmp_path / f"p{len(list(tmp_path.iterdir()))}",
                             problem={"code": "p", "name": "P", "time_limit": 1, "memory_limit": 1 << 28,
                                      "task_type": "Batch", "grading": grading},
                             subtasks={"00-a": {"score": 10, "testcases": ["t1"]}}, tests={"t1": ("1\n", "1\n")},
                             files=files)

    ok = {"protocol": "kattis", "root": {"name": "data", "items": [{"name": "data/secret", "subtask": 0,
                                                                     "items": ["t1"]}]}}
    assert load_problem(package(ok)).grading.root.groups()[1].subtask == 0
    for grading, match in [
        ({**ok, "root": {"name": "data", "items": ["t2"]}}, "names tests no subtask holds: t2"),
        ({**ok, "root": {"name": "data", "custom": True, "items": ["t1"]}}, "custom-graded but the package has no"),
        ({**ok, "root": {"name": "data", "subtask": 3, "items": ["t1"]}}, "distinct subtasks"),
        ({**ok, "root": {"name": "data", "on_reject": "later"}}, "bad 'grading'"),
        ({**ok, "protocol": "dmoj"}, "bad 'grading'"),
    ]:
        with pytest.raises(PackageError, match=match):
            load_problem(package(grading))
    custom = {**ok, "root": {"name": "data", "custom": True, "items": ["t1"]}}
    assert load_problem(package(custom, {"group_grader/grader.py": "print('AC 0')\n"})).grading.source.name == \
        "grader.py"


@needs_gxx
def test_custom_grader_reads_the_validators_scores(judge, tmp_path):
    """validation: custom score with a grader that sums its items' scores: score.txt reaches the grader as is."""
    src = fx.kattis_custom_grader(tmp_path / "scored", python=True)
    (src / "problem.yaml").write_text("name: Scored\ntype: scoring\nvalidation: custom score\n")
    (src / "graders/grade.py").write_text(
        "import sys\nitems = [line.split() for line in sys.stdin if line.strip()]\n"
        "print(next((v for v, _ in items if v != 'AC'), 'AC'), sum(float(s) for _, s in items))\n")
    # accepted tests score a (or a + 1 when off by one, then rejected): 5, 7 in g1; 5, 7, 500, 700 in g2
    fx.write(src, {"output_validators/check/validate.py": (
        "import sys\na = int(open(sys.argv[1]).read().split()[0])\nwant = int(open(sys.argv[2]).read())\n"
        "if int(sys.stdin.read().split()[0]) != want:\n    sys.exit(43)\n"
        "open(sys.argv[3] + 'score.txt', 'w').write(str(a / 100))\nsys.exit(42)\n")})
    p = load_problem(imported(src))
    assert len(p.tests) == 5  # merged although g1 and g2 have different maxima (40, 60)
    ok = judged(judge, p, "model_solution/sum.cpp")
    # g1: 0.05 + 0.07; g2: 0.05 + 0.07 + 5 + 7; the samples score 0.01 but are ignored at the root
    assert [(g.name, round(g.score, 6)) for g in ok.groups][1:] == [
        ("data/secret/g1", 0.12), ("data/secret/g2", 12.12), ("data/secret", 12.24), ("data", 12.24)]
    assert (ok.score, [s.score for s in ok.subtasks]) == (12.24, [0.0, 0.12, 12.12])
    off = judged(judge, p, "partially_correct/off.cpp")
    assert (off.score, [s.score for s in off.subtasks]) == (0.24, [0.0, 0.12, 0.12])


@needs_gxx
@pytest.mark.parametrize("view_first", [False, True], ids=["whole-first", "view-first"])
def test_views_of_a_graded_problem_share_the_judge(judge, tmp_path, view_first):
    """A view without the group tree (a reward's one group) and the whole problem, judged on one Judge in either
    order: each is scored as it says, the whole problem by its grader."""
    from ioi_eval.rewards.modes import one_group

    p = load_problem(imported(fx.kattis_custom_grader(tmp_path / "graded", python=False)))
    view = one_group(p, None)
    sol = Submission.from_source(next(s.path for s in p.solutions if s.key == "partially_correct/off.cpp"))
    order = [view, p] if view_first else [p, view]
    reports = {id(q): judge.judge(q, sol, skip=False) for q in order}
    whole, part = reports[id(p)], reports[id(view)]
    assert (whole.score, [s.score for s in whole.subtasks]) == (55.0, [0.0, 40.0, 15.0])
    assert whole.groups and not part.groups
    assert (part.score, part.max_score) == (0.0, 1.0)  # one GroupMin group of every test: a wrong test fails it
