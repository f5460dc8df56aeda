"""Loading CMS-layout packages: folders, zips, the official layout, and clear errors."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from ioi_eval.errors import PackageError
from ioi_eval.sources.loader import discover, load_problem
from tests.conftest import IOI2024, PROBLEMS


def test_loads_folder(sum_package: Path) -> None:
    p = load_problem(sum_package)
    assert p.code == "sum" and p.task_type == "Batch" and p.params.compilation == "alone"
    assert [s.points for s in p.subtasks] == [0, 40, 60] and p.max_score == 100
    assert p.test_order() == ["0-01", "1-01", "1-02", "2-01", "2-02"]
    assert p.checker.source is None and p.checker.standard == "white_diff"


def test_loads_zip_with_nested_folder(sum_package: Path, tmp_path: Path) -> None:
    z = tmp_path / "sum-CMS.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sum_package.rglob("*"):
            zf.write(f, Path("sum") / f.relative_to(sum_package))
    p = load_problem(z)
    assert p.code == "sum" and len(p.tests) == 5


def test_task_type_params_string_with_prefix(sum_package: Path) -> None:
    meta = json.loads((sum_package / "problem.json").read_text())
    meta["task_type_params"] = json.dumps({"task_type_parameters_Batch_compilation": "grader"})
    (sum_package / "problem.json").write_text(json.dumps(meta))
    assert load_problem(sum_package).params.compilation == "grader"


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: (r / "problem.json").write_text("{not json"), "not valid JSON"),
        (lambda r: (r / "problem.json").write_text(json.dumps({"task_type": "Batch"})), "time_limit"),
        (lambda r: (r / "tests" / "2-01.out").unlink(), "2-01.out"),
        (lambda r: (r / "tests" / "1-01.in").unlink(), "1-01.in"),
        (lambda r: shutil.rmtree(r / "subtasks"), "no subtask files"),
        (lambda r: (r / "subtasks" / "01-small.json").write_text('{"score": 1}'), "testcases"),
    ],
)
def test_malformed_packages_name_the_problem(sum_package: Path, mutate, needle: str) -> None:
    mutate(sum_package)
    with pytest.raises(PackageError, match=needle):
        load_problem(sum_package)


def test_unknown_task_type(sum_package: Path) -> None:
    meta = json.loads((sum_package / "problem.json").read_text())
    meta["task_type"] = "TwoSteps"
    (sum_package / "problem.json").write_text(json.dumps(meta))
    with pytest.raises(PackageError, match="TwoSteps"):
        load_problem(sum_package)


def test_unknown_score_type_names_the_file(sum_package: Path) -> None:
    """The score-type registry is the only list of their names; the loader checks against it."""
    meta = json.loads((sum_package / "problem.json").read_text())
    (sum_package / "problem.json").write_text(json.dumps({**meta, "score_type": "GroupMax"}))
    with pytest.raises(PackageError, match=r"problem.json: unknown score type 'GroupMax' \(known: GroupMin"):
        load_problem(sum_package)
    (sum_package / "problem.json").write_text(json.dumps({**meta, "score_type": "Sum"}))
    assert load_problem(sum_package).score_type == "Sum"
    (sum_package / "subtasks" / "01-small.json").write_text(json.dumps({"score": 40, "testcases": ["0-01"],
                                                                         "score_type": "Bogus"}))
    with pytest.raises(PackageError, match=r"01-small.json: unknown score type 'Bogus'"):
        load_problem(sum_package)


def test_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=r"no problem\.json"):
        load_problem(tmp_path)
    bad = tmp_path / "x.zip"
    bad.write_bytes(b"garbage")
    with pytest.raises(PackageError, match="not a valid zip"):
        load_problem(bad)


def test_zip_slip_is_refused(tmp_path: Path) -> None:
    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../escape.txt", "x")
    with pytest.raises(PackageError, match="escapes"):
        load_problem(z)


def test_bundled_problems_load() -> None:
    roots = discover(PROBLEMS)
    assert len(roots) >= 6
    types = set()
    for root in roots:
        p = load_problem(root)
        types.add((p.task_type, p.params.num_processes))
        assert p.solutions, f"{p.code} ships no reference solutions"
        assert abs(p.max_score - 100) < 1e-9
    assert {("Batch", 1), ("Communication", 1), ("Communication", 2), ("OutputOnly", 1)} <= types


@pytest.mark.real_packages
@pytest.mark.skipif(not IOI2024.is_dir(), reason="official IOI 2024 packages not fetched")
@pytest.mark.parametrize("name", ["aplusb-CMS.zip", "machine-CMS.zip", "message-CMS.zip", "sphinx-CMS.zip"])
def test_official_packages_load(name: str) -> None:
    path = IOI2024 / name
    if not path.is_file() or path.stat().st_size == 0:
        pytest.skip(f"{name} not available")
    p = load_problem(path)
    assert p.max_score == 100
    if p.task_type == "Communication":
        assert p.params.compilation == "stub" and p.params.num_processes in (1, 2)


def test_an_empty_subtask_without_points_is_a_warning_with_points_an_error(sum_package: Path) -> None:
    from ioi_eval.errors import PackageWarning

    (sum_package / "subtasks" / "00-samples.json").write_text(json.dumps({"score": 0, "testcases": []}))
    with pytest.warns(PackageWarning, match=r"00-samples\.json: a subtask with no tests and no points"):
        p = load_problem(sum_package)
    assert p.subtasks[0].tests == () and p.max_score == 100
    (sum_package / "subtasks" / "00-samples.json").write_text(json.dumps({"score": 5, "testcases": []}))
    with pytest.raises(PackageError, match=r"00-samples\.json: a subtask worth 5 points has no tests"):
        load_problem(sum_package)


def test_loading_never_writes_into_the_package(sum_package: Path) -> None:
    before = {p: (p.stat().st_mode, p.read_bytes() if p.is_file() else b"") for p in sum_package.rglob("*")}
    load_problem(sum_package)
    assert {p: (p.stat().st_mode, p.read_bytes() if p.is_file() else b"") for p in sum_package.rglob("*")} == before
