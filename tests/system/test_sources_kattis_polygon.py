"""Kattis and Polygon problem packages: import into the CMS layout, judge end to end, list and export.

Every fixture is written on the fly in its format's real layout (``tests/fixtures/source_fixtures.py``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ioi_eval.cli import app
from ioi_eval.errors import PackageError
from ioi_eval.judge.submission import Submission
from ioi_eval.sources import KattisSource, PolygonSource, resolve_source
from ioi_eval.sources.export import export_source
from ioi_eval.sources.loader import load_problem
from tests.fixtures import source_fixtures as fx

HAS_GXX = shutil.which("g++") is not None


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("IOI_EVAL_CACHE", str(tmp_path / "cache"))


def only_package(source) -> Path:
    roots = source.packages()
    assert len(roots) == 1
    return roots[0]


def solution(problem, key: str) -> Submission:
    """The reference solution ``<category>/<file>`` as a submission."""
    return Submission.from_source(next(s.path for s in problem.solutions if s.key == key))


def scores(judge, problem) -> dict[str, float]:
    """Each reference solution's total score."""
    out = {}
    for sol in problem.solutions:
        report = judge.judge(problem, Submission.from_source(sol.path), skip=False)
        out[sol.key] = report.score
    return out


# -- Kattis: import ----------------------------------------------------------------------------

def test_kattis_passfail_import(tmp_path):
    src = fx.kattis_passfail(tmp_path / "divide")
    source = resolve_source(str(src))
    assert isinstance(source, KattisSource)
    p = load_problem(only_package(source))
    assert p.code == "divide" and p.name == "Divide" and p.time_limit == 1.0 and p.memory_limit == 2048 << 20
    assert [(s.name, s.points, list(s.tests)) for s in p.subtasks] == [
        ("00-samples", 0.0, ["sample-1"]), ("01-secret", 100.0, ["secret-01", "secret-02"])]
    assert p.tests["secret-02"].input.read_text() == "1 3\n"  # the symlink was followed
    assert not p.tests["secret-02"].input.is_symlink()
    # float_tolerance without case_sensitive: floats within 1e-6, other tokens ignoring case.
    assert (p.checker.standard, p.checker.abs_tol, p.checker.rel_tol) == ("floats_nocase", 1e-6, 1e-6)
    assert {s.key for s in p.solutions} == {"model_solution/div.cpp", "incorrect/intdiv.py"}
    assert "Print $a/b$" in (p.statement or "")


def test_kattis_import_is_cached_by_content(tmp_path):
    src = fx.kattis_passfail(tmp_path / "divide")
    first = only_package(KattisSource(src))
    memo = list((tmp_path / "cache/sources/kattis/.stat").iterdir())
    assert [m.read_text() for m in memo] == [first.name.rsplit("-", 1)[1]]  # the hash, kept by stat
    assert only_package(KattisSource(src)) == first
    twin = shutil.copytree(src, tmp_path / "divide2", symlinks=True)  # same content, another code
    assert load_problem(only_package(KattisSource(twin))).code == "divide2"
    (src / "data/secret/01.ans").write_text("2.50\n")
    again = only_package(KattisSource(src))
    assert again != first and (again / "tests/secret-01.out").read_text() == "2.50\n"


def test_kattis_legacy_groups_import(tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_legacy_groups(tmp_path / "sumgroups"))))
    assert [(s.name, s.points, s.score_type) for s in p.subtasks] == [
        ("00-samples", 0.0, None), ("01-g1", 30.0, None), ("02-g2", 70.0, None)]
    assert list(p.subtasks[2].tests) == ["secret-g2-001-a", "secret-g2-003-big"]
    assert p.checker.protocol == "kattis" and p.checker.source is not None
    assert p.checker.args == ()
    assert p.checker.test_args == {"secret-g2-001-a": ("partial",), "secret-g2-003-big": ("partial",)}
    assert p.checker.test_max["secret-g1-001-a"] == 30.0


def test_kattis_2025_groups_import(tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_2025_groups(tmp_path / "sum2025"))))
    assert p.name == "Sum 2025" and p.time_limit == 1.5 and p.memory_limit == 512 << 20
    small, large = p.subtasks[1], p.subtasks[2]
    assert (small.points, list(small.tests)) == (40.0, ["secret-group1-1"])
    # require_pass: the small group's tests join the large subtask.
    assert (large.points, list(large.tests)) == (60.0, ["secret-group1-1", "secret-group2-1", "secret-group2-2"])


def test_kattis_sum_aggregation_is_a_sum_subtask(tmp_path):
    src = fx.kattis_2025_groups(tmp_path / "sum2025")
    (src / "data/secret/group2/test_group.yaml").write_text("max_score: 60\nscore_aggregation: sum\n")
    p = load_problem(only_package(KattisSource(src)))
    assert (p.subtasks[2].score_type, p.subtasks[2].points) == ("Sum", 60.0)
    assert p.checker.test_max["secret-group2-1"] == 30.0


def test_kattis_newer_version_with_legacy_group_keys(tmp_path):
    """problemtools' own oddecho example says 2023-07-draft but scores with legacy testdata.yaml keys."""
    src = fx.kattis_legacy_groups(tmp_path / "sumgroups")
    (src / "problem.yaml").write_text("problem_format_version: 2023-07-draft\nname: x\ntype: scoring\n"
                                      "limits: {time_limit: 1}\n")
    (src / "output_validators").rename(src / "output_validator")
    p = load_problem(only_package(KattisSource(src)))
    assert [(s.points, s.score_type) for s in p.subtasks] == [(0.0, None), (30.0, None), (70.0, None)]


def test_kattis_pass_fail_secret_is_all_or_nothing(tmp_path):
    src = fx.kattis_2025_groups(tmp_path / "sum2025")
    (src / "data/secret/test_group.yaml").write_text("max_score: 100\nscore_aggregation: pass-fail\n")
    (src / "data/secret/group2/test_group.yaml").write_text("max_score: 60\n")
    p = load_problem(only_package(KattisSource(src)))
    assert [(s.points, len(s.tests)) for s in p.subtasks] == [(0.0, 1), (100.0, 3)]


def test_kattis_interactive_import(tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_interactive(tmp_path / "guess"))))
    assert p.task_type == "Communication"
    assert (p.params.interactor, p.params.compilation, p.params.num_processes) == ("kattis", "alone", 1)
    assert p.grader("manager.cpp") is not None


def test_kattis_errors(tmp_path):
    src = fx.kattis_passfail(tmp_path / "notl")
    (src / ".timelimit").unlink()
    with pytest.raises(PackageError, match="no time limit"):
        KattisSource(src).packages()
    src = fx.kattis_passfail(tmp_path / "noans")
    (src / "data/secret/01.ans").unlink()
    with pytest.raises(PackageError, match=r"01\.ans: answer file missing"):
        KattisSource(src).packages()
    src = fx.kattis_passfail(tmp_path / "loop")
    fx.link(src, "data/secret/again", "..")
    with pytest.raises(PackageError, match="loops back"):
        KattisSource(src).packages()
    src = fx.kattis_legacy_groups(tmp_path / "pyval")
    shutil.rmtree(src / "output_validators/check")
    fx.write(src, {"output_validators/check/Validate.java": "class Validate {}\n"})
    with pytest.raises(PackageError, match=r"only C/C\+\+ or single-file Python output validators"):
        KattisSource(src).packages()


# -- Polygon: import ---------------------------------------------------------------------------

def test_polygon_full_import(tmp_path):
    src = fx.polygon_full(tmp_path / "psum")
    source = resolve_source(str(src))
    assert isinstance(source, PolygonSource)
    p = load_problem(only_package(source))
    assert (p.code, p.name, p.time_limit, p.memory_limit) == ("psum", "Polygon sum", 1.5, 268435456)
    assert [(s.name, s.points, list(s.tests), s.score_type) for s in p.subtasks] == [
        ("00-samples", 0.0, ["01"], None),
        ("01-small", 40.0, ["01", "02", "03"], None),  # depends on the samples
        ("02-large", 60.0, ["04", "05"], "Sum"),  # each-test, equal points
    ]
    assert p.checker.protocol == "testlib"
    assert (p.root / "checker" / "testlib.h").read_text() == fx.MINI_TESTLIB  # the package's own header
    assert {s.key for s in p.solutions} == {"model_solution/sum.cpp", "incorrect/off.cpp"}


def test_polygon_file_io(tmp_path):
    src = fx.polygon_full(tmp_path / "psum")
    xml = (src / "problem.xml").read_text().replace('input-file="" output-file=""',
                                                    'input-file="sum.in" output-file="sum.out"')
    (src / "problem.xml").write_text(xml)
    p = load_problem(only_package(PolygonSource(src)))
    assert (p.params.input_file, p.params.output_file) == ("sum.in", "sum.out")


def test_polygon_each_test_unequal_points(tmp_path):
    src = fx.polygon_full(tmp_path / "psum")
    xml = (src / "problem.xml").read_text().replace('cmd="gen 700 2" group="large" points="30"',
                                                    'cmd="gen 700 2" group="large" points="20"')
    (src / "problem.xml").write_text(xml)
    p = load_problem(only_package(PolygonSource(src)))
    assert [(s.name, s.points, list(s.tests)) for s in p.subtasks[2:]] == [
        ("02-large-04", 30.0, ["04"]), ("03-large-05", 20.0, ["05"])]


def test_polygon_points_without_groups(tmp_path):
    """Per-test points and no groups (Codeforces style): samples at 0, the rest a Sum subtask."""
    src = fx.polygon_full(tmp_path / "psum")
    xml = (src / "problem.xml").read_text()
    xml = xml.replace(' group="samples"', "").replace(' group="small"', "").replace(' group="large"', "")
    start, end = xml.index("<groups>"), xml.index("</groups>") + len("</groups>")
    xml = (xml[:start] + xml[end:]).replace('cmd="gen 5 6" points="0"', 'cmd="gen 5 6" points="30"')
    xml = xml.replace('cmd="gen 7 8" points="0"', 'cmd="gen 7 8" points="30"')
    (src / "problem.xml").write_text(xml)
    p = load_problem(only_package(PolygonSource(src)))
    assert [(s.name, s.points, list(s.tests), s.score_type) for s in p.subtasks] == [
        ("00-tests-unscored", 0.0, ["01"], None), ("01-tests", 120.0, ["02", "03", "04", "05"], "Sum")]


def test_polygon_no_points_is_one_subtask(tmp_path):
    p = load_problem(only_package(PolygonSource(fx.polygon_interactive(tmp_path / "pguess"))))
    assert [(s.points, list(s.tests)) for s in p.subtasks] == [(100.0, ["01", "02", "03", "04"])]
    assert (p.task_type, p.params.interactor) == ("Communication", "testlib")


def test_polygon_standard_package_names_the_generators(tmp_path):
    with pytest.raises(PackageError, match=r"1 test inputs and 1 answers are missing \(tests/02, tests/02.a\)"
                                           r".*generated by gen \(e.g. 'gen 10 20'\)"):
        PolygonSource(fx.polygon_standard(tmp_path / "gen")).packages()


def test_polygon_checker_from_its_root_copy(tmp_path):
    src = fx.polygon_full(tmp_path / "psum")
    (src / "files/check.cpp").unlink()  # <copy path="check.cpp"/> is there
    p = load_problem(only_package(PolygonSource(src)))
    assert (p.root / "checker/checker.cpp").read_text() == fx.POLYGON_CHECKER


def test_polygon_checker_needs_the_packages_testlib(tmp_path):
    src = fx.polygon_full(tmp_path / "psum")
    (src / "files/testlib.h").unlink()
    with pytest.raises(PackageError, match=r"files/testlib\.h: the checker includes testlib\.h"):
        PolygonSource(src).packages()


def test_polygon_zip_and_folder_of_packages(tmp_path):
    fx.polygon_full(tmp_path / "set" / "a", code="pa")
    fx.polygon_full(tmp_path / "set" / "b", code="pb")
    assert [load_problem(r).code for r in resolve_source(str(tmp_path / "set")).packages()] == ["pa", "pb"]
    archive = shutil.make_archive(str(tmp_path / "pa"), "zip", tmp_path / "set" / "a")
    source = resolve_source(archive)
    assert isinstance(source, PolygonSource) and load_problem(only_package(source)).code == "pa"
    assert isinstance(resolve_source(f"polygon:{tmp_path / 'set'}"), PolygonSource)
    contest = tmp_path / "contest"
    fx.write(contest, {"contest.xml": "<contest><problems><problem index='A' path='problems/A'/></problems></contest>"})
    fx.polygon_full(contest / "problems" / "A", code="pa")
    assert [load_problem(r).code for r in resolve_source(str(contest)).packages()] == ["pa"]


def test_kattis_zip_folder_of_packages_and_errors(tmp_path):
    fx.kattis_passfail(tmp_path / "set" / "divide")
    fx.kattis_legacy_groups(tmp_path / "set" / "groups")
    (tmp_path / "set" / "notes").mkdir()  # a folder that is no package is passed over
    roots = resolve_source(str(tmp_path / "set")).problem_roots()
    assert [r.name for r in roots] == ["divide", "groups"]
    # a zip holding the package folder one level down
    archive = shutil.make_archive(str(tmp_path / "divide"), "zip", tmp_path / "set", "divide")
    source = resolve_source(archive)
    assert isinstance(source, KattisSource) and load_problem(only_package(source)).code == "divide"
    with pytest.raises(PackageError, match="no Kattis problem package"):
        resolve_source(f"kattis:{tmp_path / 'set' / 'notes'}").packages()
    with pytest.raises(PackageError, match="no such file or folder"):
        resolve_source(f"kattis:{tmp_path / 'missing'}").packages()
    assert not isinstance(resolve_source(str(tmp_path / "set" / "notes")), KattisSource)


# -- judged end to end ---------------------------------------------------------------------------

pytestmark_judge = pytest.mark.skipif(not HAS_GXX, reason="g++ missing")


@pytestmark_judge
def test_judge_kattis_passfail(judge, tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_passfail(tmp_path / "divide"))))
    assert scores(judge, p) == {"model_solution/div.cpp": 100.0, "incorrect/intdiv.py": 0.0}


@pytestmark_judge
def test_judge_kattis_legacy_groups_custom_validator(judge, tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_legacy_groups(tmp_path / "sumgroups"))))
    assert scores(judge, p) == {"model_solution/sum.cpp": 100.0, "partially_correct/off.cpp": 65.0}
    report = judge.judge(p, solution(p, "partially_correct/off.cpp"), skip=False)
    big = next(t for t in report.tests if t.name == "secret-g2-003-big")
    assert big.score == 0.5 and "partially" in big.message
    wrong = tmp_path / "wrong.py"
    wrong.write_text(fx.SUM_WRONG_PY)
    report = judge.judge(p, Submission.from_source(wrong), skip=False)
    assert report.score == 0.0
    assert "expected 11 got -1" in next(t for t in report.tests if t.name == "secret-g1-001-a").message


@pytestmark_judge
def test_judge_kattis_python_validator(judge, tmp_path):
    src = fx.kattis_legacy_groups(tmp_path / "sumgroups")
    shutil.rmtree(src / "output_validators/check")
    fx.write(src, {"output_validators/check/validate.py": fx.KATTIS_VALIDATOR_PY})
    p = load_problem(only_package(KattisSource(src)))
    assert p.checker.source is not None and p.checker.source.name == "checker.py"
    assert scores(judge, p) == {"model_solution/sum.cpp": 100.0, "partially_correct/off.cpp": 65.0}


@pytestmark_judge
def test_judge_kattis_2025_require_pass(judge, tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_2025_groups(tmp_path / "sum2025"))))
    sol = tmp_path / "sum.cpp"
    sol.write_text(fx.SUM_CPP)
    off = tmp_path / "off.cpp"
    off.write_text(fx.SUM_OFF_CPP)
    assert judge.judge(p, Submission.from_source(sol)).score == 100.0
    assert judge.judge(p, Submission.from_source(off), skip=False).score == 70.0  # 40 + 60 * 0.5


@pytestmark_judge
def test_judge_kattis_interactive(judge, tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_interactive(tmp_path / "guess"))))
    got = scores(judge, p)
    assert got == {"model_solution/bsearch.cpp": 100.0, "incorrect/linear.cpp": 0.0}
    report = judge.judge(p, solution(p, "incorrect/linear.cpp"), skip=False)
    assert [t.verdict.value for t in report.tests] == ["WA", "AC", "WA"]


@pytestmark_judge
def test_judge_kattis_include_grader(judge, tmp_path):
    p = load_problem(only_package(KattisSource(fx.kattis_grader(tmp_path / "add"))))
    assert p.params.compilation == "grader" and p.checker.standard == "tokens"
    assert scores(judge, p) == {"model_solution/add.cpp": 100.0}


@pytestmark_judge
def test_judge_polygon_full(judge, tmp_path):
    p = load_problem(only_package(PolygonSource(fx.polygon_full(tmp_path / "psum"))))
    assert scores(judge, p) == {"model_solution/sum.cpp": 100.0, "incorrect/off.cpp": 40.0}
    half = tmp_path / "half.cpp"  # right on test 04 (a = 500) only of the each-test group
    half.write_text(fx.SUM_OFF_CPP.replace("(a>100)", "(a>600)"))
    report = judge.judge(p, Submission.from_source(half))  # skipping on: the Sum subtask runs every test
    assert report.score == 70.0 and [s.score for s in report.subtasks] == [0.0, 40.0, 30.0]
    report = judge.judge(p, solution(p, "incorrect/off.cpp"), skip=False)
    assert "expected 501, found 502" in next(t for t in report.tests if t.name == "04").message


@pytestmark_judge
def test_judge_polygon_interactive(judge, tmp_path):
    p = load_problem(only_package(PolygonSource(fx.polygon_interactive(tmp_path / "pguess"))))
    assert scores(judge, p) == {"model_solution/bsearch.cpp": 100.0, "incorrect/linear.cpp": 0.0}
    report = judge.judge(p, solution(p, "incorrect/linear.cpp"), skip=False)
    # Secrets 500 and 900: the interactor gives up after 20 guesses; 3: found in 3 queries;
    # 15: the interactor accepts, but the checker of its output wants at most 10 queries.
    assert [t.verdict.value for t in report.tests] == ["WA", "AC", "WA", "WA"]
    assert report.tests[3].message == "15 queries"


@pytestmark_judge
def test_judge_polygon_grader(judge, tmp_path):
    p = load_problem(only_package(PolygonSource(fx.polygon_grader(tmp_path / "add"))))
    assert p.params.compilation == "grader" and p.grader("grader.cpp") is not None
    assert scores(judge, p) == {"model_solution/add.cpp": 100.0}


# -- CLI ---------------------------------------------------------------------------------------

def test_cli_list_and_export(tmp_path):
    fx.kattis_passfail(tmp_path / "kat" / "divide")
    fx.kattis_interactive(tmp_path / "kat" / "guess")
    res = CliRunner().invoke(app, ["problems", "list", str(tmp_path / "kat")], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "divide" in res.output and "guess" in res.output and "Communication" in res.output
    res = CliRunner().invoke(app, ["problems", "export", f"polygon:{fx.polygon_full(tmp_path / 'psum')}",
                                   "--to", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    meta = json.loads((tmp_path / "out" / "psum" / "problem.json").read_text())
    assert meta["checker"] == {**meta["checker"], "protocol": "testlib"}
    assert load_problem(tmp_path / "out" / "psum").max_score == 100.0
    written = export_source(str(tmp_path / "kat"), tmp_path / "out2")
    assert [w.name for w in written] == ["divide", "guess"]
    assert not (tmp_path / "out2" / "divide" / "tests" / "secret-02.in").is_symlink()
    res = CliRunner().invoke(app, ["problems", "list", str(fx.polygon_standard(tmp_path / "gen"))])
    assert res.exit_code == 2 and "generated by gen" in res.output


# -- the Kattis protocol and the default validator, without a box ----------------------------------

def _outcome(code, files=None, test="t", **spec):
    from ioi_box.protocol import ProcStatus

    from ioi_eval.judge.checkers import kattis_outcome
    from ioi_eval.problem.model import CheckerSpec

    files = {k: v.encode() for k, v in (files or {}).items()}
    return kattis_outcome(CheckerSpec(protocol="kattis", **spec), test, ProcStatus.OK if code == 0 else ProcStatus.RE,
                          code, "", files.get)


def test_kattis_outcome():
    from ioi_eval.judge.checkers import CheckerFailure

    assert _outcome(42) == (1.0, "Output is correct")
    assert _outcome(43, {"judgemessage.txt": "wrong at line 3\nmore"}) == (0.0, "Output isn't correct: wrong at line 3")
    assert _outcome(42, {"score_multiplier.txt": "0.25\n"})[0] == 0.25
    assert _outcome(42, {"score.txt": "15"}, score_file="absolute", test_max={"t": 30.0})[0] == 0.5
    assert _outcome(42, {"score.txt": "0.75"}, score_file="multiplier")[0] == 0.75
    for code, files, spec, match in [
        (0, {}, {}, "exited 0"),
        (1, {}, {}, "exited 1"),
        (42, {"score.txt": "15"}, {"score_file": "absolute"}, "no maximum score"),
        (42, {"score.txt": "45"}, {"score_file": "absolute", "test_max": {"t": 30.0}}, "above the test's maximum"),
        (42, {"score_multiplier.txt": "lots"}, {}, "invalid score_multiplier.txt"),
    ]:
        with pytest.raises(CheckerFailure, match=match):
            _outcome(code, files, **spec)


@pytest.mark.parametrize(("flags", "checker"), [
    ("", {"standard": "yes_no"}),
    ("case_sensitive", {"standard": "tokens"}),
    ("float_tolerance 1e-4", {"standard": "floats_nocase", "abs_tol": 1e-4, "rel_tol": 1e-4}),
    ("case_sensitive float_absolute_tolerance 0.5", {"standard": "floats", "abs_tol": 0.5, "rel_tol": 0.0}),
    ("float_relative_tolerance 1e-9", {"standard": "floats_nocase", "abs_tol": 0.0, "rel_tol": 1e-9}),
    ("space_change_sensitive case_sensitive", {"standard": "white_diff"}),
])
def test_kattis_default_validator_flags(tmp_path, flags, checker):
    src = fx.kattis_passfail(tmp_path / "divide")
    (src / "problem.yaml").write_text(f"name: Divide\nvalidator_flags: {flags}\n" if flags else "name: Divide\n")
    meta = json.loads((only_package(KattisSource(src)) / "problem.json").read_text())
    assert meta["checker"] == checker


def test_kattis_bad_default_flag(tmp_path):
    src = fx.kattis_passfail(tmp_path / "divide")
    (src / "problem.yaml").write_text("validator_flags: float_tolerance\n")
    with pytest.raises(PackageError, match="float_tolerance needs a value"):
        KattisSource(src).packages()
