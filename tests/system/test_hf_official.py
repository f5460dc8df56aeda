"""Fidelity: an official IOI 2024 package turned into open-r1's dataset format (rows built here from
the package's files, in the real schema) and materialised back is judged exactly like the package.

Needs the official packages in /tmp/ioi24 (skipped when absent).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ioi_eval.judge.submission import Submission
from ioi_eval.judge.task_types import TASK_TYPES
from ioi_eval.sources import HfSource
from ioi_eval.sources.loader import find_root, load_problem
from tests.conftest import IOI2024
from tests.fixtures.openr1_fixtures import write_parquet

pytestmark = [pytest.mark.slow, pytest.mark.real_packages]
pytest.importorskip("datasets")


def openr1_rows(pkg: Path) -> tuple[list[dict], list[dict]]:
    """``open-r1/ioi`` rows and ``open-r1/ioi-test-cases`` rows of an official package."""
    meta = json.loads((pkg / "problem.json").read_text())
    params = meta.get("task_type_params") or "{}"
    config = {**meta, "task_type_params": json.loads(params) if isinstance(params, str) else params}
    grader_files = [[f"{folder}/{f.name}", f.read_text()] for folder in ("graders", "checker")
                    if (pkg / folder).is_dir() for f in sorted((pkg / folder).iterdir()) if f.is_file()]
    grader_files.append(["graders/grader_config.json", json.dumps(config)])
    rows = []
    for sub in sorted((pkg / "subtasks").glob("*.json")):
        data = json.loads(sub.read_text())
        rows.append({"year": 2024, "name": meta["name"], "id": meta["code"], "day": "practice", "subtask": sub.stem,
                     "statement": f"# {meta['name']}", "score": data["score"], "time_limit": meta["time_limit"],
                     "memory_limit": meta["memory_limit"], "score_precision": meta.get("score_precision", 2),
                     "task_type": meta["task_type"], "test_names": data["testcases"], "starting_code": "",
                     "grader_files": grader_files, "problem": f"Solve {sub.stem}."})
    tests = [{"year": 2024, "day": "practice", "problem_name": meta["name"], "problem_id": meta["code"],
              "test_name": f.stem, "test_input": f.read_text(), "test_output": (f.with_suffix(".out")).read_text()}
             for f in sorted((pkg / "tests").glob("*.in"))]
    return rows, tests


@pytest.mark.parametrize("name, picks", [
    ("aplusb", None),  # Batch with grader and testlib checker: every solution
    ("message", ["model_solution", "partially_correct/badawy_m_19.cpp", "incorrect/subtask1.cpp"]),  # 2 processes
])
def test_materialised_official_package_scores_the_same(tmp_path, monkeypatch, judge, name, picks):
    import datasets

    zipped = IOI2024 / f"{name}-CMS.zip"
    if not zipped.exists() and not (IOI2024 / f"{name}-CMS").exists():
        pytest.skip(f"{name}: official package not in {IOI2024}")
    monkeypatch.setenv("IOI_EVAL_CACHE", str(tmp_path / "cache"))
    official = load_problem(find_root(IOI2024 / f"{name}-CMS") if (IOI2024 / f"{name}-CMS").exists() else zipped)
    rows, tests = openr1_rows(official.root)
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "ioi"))
    write_parquet(tmp_path / "ioi-test-cases" / "2024.parquet", tests)
    [root] = HfSource(f"{tmp_path / 'ioi'}?tests={tmp_path / 'ioi-test-cases'}").packages()
    ours = load_problem(root)
    assert ours.subtasks == official.subtasks and ours.params == official.params
    assert (ours.time_limit, ours.memory_limit, ours.task_type) == (official.time_limit, official.memory_limit,
                                                                    official.task_type)
    sols = [s for s in official.solutions
            if picks is None or s.category in picks or s.key in picks][:6]
    assert sols
    for sol in sols:
        sub = Submission.from_path(sol.path, TASK_TYPES[official.task_type].takes_code)
        a, b = judge.judge(official, sub), judge.judge(ours, sub)
        assert (b.score, [s.score for s in b.subtasks]) == (a.score, [s.score for s in a.subtasks]), sol.key
