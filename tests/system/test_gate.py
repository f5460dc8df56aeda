"""``ioi-eval ci``: exit codes 0/1/2 on real small runs of a bundled problem (reference and replayed
completions), the step summary, the JUnit file, and the baseline file's round trip."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ioi_eval.errors import BaselineError
from ioi_eval.gate.baseline import Baseline, load_baseline
from ioi_eval.gate.compare import GatePolicy, Status, compare
from ioi_eval.gate.report import junit_xml, markdown_summary, write_junit
from ioi_eval.run.events import RunResult
from ioi_eval.scoring.run_score import ProblemScore, RunScore, SubtaskScore
from tests.conftest import PROBLEMS

from .test_run import RAINFALL_OK, RAINFALL_OVERFLOW, _fence, cli, db_rows

SUBTASKS = ["01-small", "02-medium", "03-small-values", "04-full"]


def _replay(tmp_path: Path, name: str, code: str, skip: tuple[str, ...] = ()) -> Path:
    """A replay source answering every rainfall subtask prompt (sample 0) with ``code``."""
    src = tmp_path / f"{name}.jsonl"
    src.write_text("".join(json.dumps({"key": f"rainfall/{st}/0", "text": _fence(code)}) + "\n"
                           for st in SUBTASKS if st not in skip))
    return src


def _ci(tmp_path: Path, model: str, baseline: Path, run: str, *extra: str, env: dict | None = None):
    engine = ["--engine", "replay", "--samples", "1"] if model != "reference" else []
    return cli("ci", "--model", model, *engine, "--problems", str(PROBLEMS), "--only", "rainfall",
               "--baseline", str(baseline), "--run-dir", str(tmp_path / run), *extra, cwd=tmp_path, env=env)


def _junit(path: Path) -> tuple[dict[str, str], dict[str, ET.Element]]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    return dict(suite.attrib), {c.get("name"): c for c in suite.findall("testcase")}


@pytest.fixture(scope="module")
def reference_baseline(tmp_path_factory) -> Path:
    """A baseline written by a first gated run (--init-baseline) of the reference solution."""
    tmp = tmp_path_factory.mktemp("gate-ref")
    baseline = tmp / "baseline.json"
    missing = _ci(tmp, "reference", baseline, "ref")
    assert missing.returncode == 2 and "baseline file not found" in missing.stderr and "--init-baseline" in \
        missing.stderr and "Traceback" not in missing.stderr
    step = tmp / "step-summary.md"
    step.write_text("earlier step\n")
    res = _ci(tmp, "reference", baseline, "ref", "--init-baseline", env={"GITHUB_STEP_SUMMARY": str(step)})
    assert res.returncode == 0, res.stderr
    assert step.read_text().startswith("earlier step\n") and "ioi-eval CI gate: ✅ passed" in step.read_text()
    assert (tmp / "ref" / "ci-baseline.json").read_text() == baseline.read_text()
    assert load_baseline(baseline).problem("rainfall").score == 100
    return baseline


def test_gate_passes_an_equal_checkpoint(tmp_path: Path, reference_baseline: Path) -> None:
    src = _replay(tmp_path, "ok", RAINFALL_OK)
    step = tmp_path / "summary.md"
    res = _ci(tmp_path, str(src), reference_baseline, "ok", "--junit", str(tmp_path / "j.xml"),
              env={"GITHUB_STEP_SUMMARY": str(step)})
    assert res.returncode == 0, res.stderr
    text = step.read_text()
    assert "✅ passed" in text and "| rainfall | 100 | 100 | 0 | 100 | ✅ pass |" in text
    assert "run settings differ from the baseline's" in text and "engine" in text  # reference vs replay
    attrs, cases = _junit(tmp_path / "j.xml")
    assert attrs["tests"] == "6" and attrs["failures"] == attrs["errors"] == attrs["skipped"] == "0"
    assert set(cases) == {"rainfall", *(f"rainfall/{st}" for st in SUBTASKS), "total"}
    new = load_baseline(tmp_path / "ok" / "ci-baseline.json")
    assert new.model == str(src) and new.total == 100 and new.run_config["engine"] == "replay"


def test_gate_fails_a_regression_and_respects_drop_and_floor(tmp_path: Path, reference_baseline: Path) -> None:
    src = _replay(tmp_path, "overflow", RAINFALL_OVERFLOW)
    res = _ci(tmp_path, str(src), reference_baseline, "bad")
    assert res.returncode == 1, res.stderr
    summary = json.loads((tmp_path / "bad" / "summary.json").read_text())
    score = summary["problems"][0]["score"]
    assert 0 <= score < 100
    text = (tmp_path / "bad" / "ci-summary.md").read_text()
    assert "❌ regressed" in text and f"| rainfall | 100 | {score:g} | {score - 100:g} |" in text
    attrs, cases = _junit(tmp_path / "bad" / "ci-junit.xml")
    assert attrs["tests"] == "6" and attrs["failures"] == "1" and attrs["errors"] == "0"
    failure = cases["rainfall"].find("failure")
    assert failure is not None and failure.get("type") == "regression" and "04-full" in failure.text
    assert all(cases[f"rainfall/{st}"].find("failure") is None for st in SUBTASKS)  # subtasks only reported
    # the scores are complete: a baseline is written even for a regression
    assert load_baseline(tmp_path / "bad" / "ci-baseline.json").problem("rainfall").score == score

    per_sub = _ci(tmp_path, str(src), reference_baseline, "bad", "--per-subtask", "--junit", str(tmp_path / "s.xml"))
    assert per_sub.returncode == 1
    attrs, cases = _junit(tmp_path / "s.xml")
    lost = [st for st, s in zip(SUBTASKS, summary["problems"][0]["subtasks"][1:], strict=True)
            if s["best"] < s["points"]]
    assert lost and int(attrs["failures"]) == 1 + len(lost)
    assert all(cases[f"rainfall/{st}"].find("failure") is not None for st in lost)

    allowed = _ci(tmp_path, str(src), reference_baseline, "bad", "--max-drop", str(100 - score))
    assert allowed.returncode == 0, allowed.stderr  # resumed: nothing judged again
    floor = _ci(tmp_path, str(src), reference_baseline, "bad", "--max-drop", "100", "--min-score", "99.5",
                "--junit", str(tmp_path / "f.xml"))
    assert floor.returncode == 1
    attrs, cases = _junit(tmp_path / "f.xml")
    assert attrs["failures"] == "1" and cases["total"].find("failure").get("type") == "floor"
    total = _ci(tmp_path, str(src), reference_baseline, "bad", "--max-drop", "100", "--max-total-drop", "0")
    assert total.returncode == 1
    assert db_rows(tmp_path / "bad", "SELECT MAX(judge_count), MIN(judge_count) FROM submissions") == [(1, 1)]


def test_gate_exits_2_on_failed_generations_unless_allowed(tmp_path: Path, reference_baseline: Path) -> None:
    src = _replay(tmp_path, "partial", RAINFALL_OK, skip=("02-medium",))
    step = tmp_path / "step.md"
    res = _ci(tmp_path, str(src), reference_baseline, "partial", env={"GITHUB_STEP_SUMMARY": str(step)})
    assert res.returncode == 2, res.stderr
    assert "evaluation error" in res.stderr and "generation(s) failed" in res.stderr
    assert not (tmp_path / "partial" / "ci-baseline.json").exists()  # incomplete scores are no baseline
    assert "⚠️ evaluation error" in step.read_text()
    attrs, cases = _junit(tmp_path / "partial" / "ci-junit.xml")
    assert attrs["errors"] == "1" and cases["rainfall"].find("error") is not None
    ok = _ci(tmp_path, str(src), reference_baseline, "partial", "--allow-errors")
    assert ok.returncode == 0, ok.stderr  # the full solution for 04-full still solves every subtask
    assert (tmp_path / "partial" / "ci-baseline.json").is_file()


def test_gate_bad_baseline_and_bad_run_are_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    res = _ci(tmp_path, "reference", bad, "r", "--summary", str(tmp_path / "s.md"), "--junit", str(tmp_path / "j.xml"))
    assert res.returncode == 2 and "bad.json" in res.stderr and "Traceback" not in res.stderr
    assert "evaluation error" in (tmp_path / "s.md").read_text()
    attrs, _ = _junit(tmp_path / "j.xml")
    assert attrs["errors"] == "1"
    newer = tmp_path / "newer.json"
    newer.write_text(json.dumps({"schema": "ioi-eval/baseline", "version": 99, "model": "m", "total": 0,
                                 "max_total": 0, "problems": []}))
    res = _ci(tmp_path, "reference", newer, "r")
    assert res.returncode == 2 and "version 99" in res.stderr
    missing_problem = cli("ci", "--model", "reference", "--problems", str(PROBLEMS), "--only", "nosuch",
                          "--baseline", str(tmp_path / "new.json"), "--init-baseline", "--run-dir", str(tmp_path / "x"),
                          cwd=tmp_path)
    assert missing_problem.returncode == 2 and "nosuch" in missing_problem.stderr
    assert not (tmp_path / "new.json").exists()


# ---------------------------------------------------------------------------------- in-process units

def _score(points: dict[str, float], best: dict[str, float], failed: int = 0, model: str = "m") -> RunScore:
    subs = [SubtaskScore(name=k, points=v, best=best[k]) for k, v in points.items()]
    p = ProblemScore(problem="p", max_score=sum(points.values()), score=sum(best.values()), oracle=0, mean_single=0,
                     subtasks=subs, generations=4, failed_generations=failed, no_code=0, judged=4 - failed,
                     submissions_used=4 - failed)
    return RunScore(model=model, total=p.score, max_total=p.max_score, oracle_total=0, mean_single_total=0,
                    problems=[p])


def test_baseline_round_trip_and_summary_json(tmp_path: Path) -> None:
    score = _score({"a": 40, "b": 60}, {"a": 40, "b": 20})
    base = Baseline.from_run(score)
    base.dump(tmp_path / "b.json")
    assert json.loads((tmp_path / "b.json").read_text())["schema"] == "ioi-eval/baseline"
    again = load_baseline(tmp_path / "b.json")
    assert again == base and again.version == 1
    (tmp_path / "summary.json").write_text(score.model_dump_json())
    assert load_baseline(tmp_path / "summary.json").problems == base.problems
    (tmp_path / "wrong.json").write_text(json.dumps({"schema": "ioi-eval/baseline", "version": 1, "model": "m"}))
    with pytest.raises(BaselineError, match="malformed baseline at total"):
        load_baseline(tmp_path / "wrong.json")


def test_compare_rules() -> None:
    base = Baseline.from_run(_score({"a": 40, "b": 60}, {"a": 40, "b": 20}))
    moved = _score({"a": 40, "b": 60}, {"a": 30, "b": 35})  # total up, subtask a down
    gate = compare(base, moved, RunResult(), GatePolicy())
    assert gate.exit_code == 0 and gate.problems[0].delta == 5
    assert compare(base, moved, RunResult(), GatePolicy(per_subtask=True)).exit_code == 1
    assert compare(base, moved, RunResult(), GatePolicy(per_subtask=True, max_drop=10)).exit_code == 0
    judge_error = RunResult(judge_errors=["p/a/0: judge error on test 1-01: checker crashed"])
    gate = compare(base, moved, judge_error, GatePolicy())
    assert gate.exit_code == 2 and gate.problems[0].status == Status.ERROR and "checker crashed" in gate.errors[0]
    assert compare(base, moved, judge_error, GatePolicy(allow_errors=True)).exit_code == 0
    failed = compare(base, _score({"a": 40, "b": 60}, {"a": 40, "b": 20}, failed=1), RunResult(), GatePolicy())
    assert failed.exit_code == 2
    other = Baseline.from_run(_score({"a": 40, "b": 60}, {"a": 40, "b": 20})).model_copy(
        update={"problems": [base.problems[0].model_copy(update={"problem": "q"})]})
    gate = compare(other, moved, RunResult(), GatePolicy())
    assert [c.status for c in gate.problems] == [Status.NEW, Status.MISSING]
    assert gate.exit_code == 2 and "nothing was compared" in gate.errors[0]
    assert junit_xml(gate).getroot().get("errors") == "1"
    assert compare(other, moved, RunResult(), GatePolicy(allow_errors=True)).exit_code == 2
    both = other.model_copy(update={"problems": [*other.problems, base.problems[0]]})
    gate = compare(both, moved, RunResult(), GatePolicy())
    assert [c.status for c in gate.problems] == [Status.PASS, Status.MISSING] and gate.exit_code == 0
    assert any("not evaluated (skipped): q" in n for n in gate.notes)


def test_junit_survives_control_characters(tmp_path: Path) -> None:
    base = Baseline.from_run(_score({"a": 100}, {"a": 100}))
    gate = compare(base, _score({"a": 100}, {"a": 0}), RunResult(judge_errors=["p/a/0: bad \x00\x1b output"]),
                   GatePolicy())
    write_junit(junit_xml(gate), tmp_path / "j.xml")
    attrs, cases = _junit(tmp_path / "j.xml")
    assert attrs["errors"] == "1" and "bad" in cases["p"].find("error").text
    assert "| p | 100 | 0 | -100 |" in markdown_summary(gate, baseline_path="b.json", run_folder=None)
