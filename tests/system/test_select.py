"""``ioi-eval select`` end to end: a replayed run with ``--generate-inputs`` on the bundled problems, whose
completions include an input generator, gives clusters and scores; a second ``select`` runs nothing in the box."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import PROBLEMS
from tests.fixtures.strict import require
from tests.system.test_run import cli

SOLUTIONS = {
    "rainfall": ["time_limit/rainfall_naive.cpp", "incorrect/rainfall_int.cpp", "model_solution/rainfall.cpp",
                 "correct/rainfall_fenwick.cpp"],
    "summit": ["partially_correct/ternary.cpp", "model_solution/binary.cpp", "model_solution/binary.cpp",
               "incorrect/linear_scan.cpp"],
}
# Rainfall's random inputs: values up to 1e9, so that sums overflow 32 bits; seed 1 is the largest input (the
# naive solution's TLE sets it apart), the others are small.
GENERATOR = r"""
#include <cstdio>
#include <cstdlib>
#include <random>
int main(int argc, char** argv) {
    std::mt19937 rng(atoi(argv[1]));
    int n = 5 + rng() % 20, q = 1 + rng() % 10;
    bool big = atoi(argv[1]) == 1;
    if (big) n = q = 100000;
    printf("%d %d\n", n, q + 1);
    for (int i = 0; i < n; i++) printf("%u%c", 500000000u + rng() % 500000001u, i + 1 < n ? ' ' : '\n');
    printf("1 %d\n", n);
    for (int k = 0; k < q; k++) {
        int l = big ? 1 : 1 + rng() % n, r = big ? n : l + rng() % (n - l + 1);
        printf("%d %d\n", l, r);
    }
}
"""


def _completion(code: str, pad: int) -> str:
    # the padding sets the length the default ranks by: the first listed is the longest
    return "Reasoning. " + "x" * pad + f"\n```cpp\n{code}\n```\n"


@pytest.fixture(scope="module")
def replayed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("select")
    rows = []
    for problem, files in SOLUTIONS.items():
        for i, rel in enumerate(files):
            code = (PROBLEMS / problem / "solutions" / rel).read_text()
            rows.append({"key": f"{problem}/-/{i}", "text": _completion(code, 4000 - 1000 * i)})
    rows.append({"key": "rainfall/#input-generator/0", "text": _completion(GENERATOR, 0)})
    rows.append({"key": "summit/#input-generator/0", "text": "I cannot write a generator for this one."})
    src = tmp / "replay.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    run_dir = tmp / "run"
    res = cli("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--only", "summit", "--per", "problem", "--samples", "4", "--generate-inputs", "6", "--run-dir",
              str(run_dir), "--json", cwd=tmp)
    assert res.returncode == 0, res.stderr
    return run_dir


def _select(run_dir: Path, *args: str) -> dict:
    res = cli("select", str(run_dir), "--budget", "1,2,all", "--json", *args, cwd=run_dir.parent)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_generated_inputs_give_clusters_and_scores(replayed_run: Path) -> None:
    with sqlite3.connect(replayed_run / "run.sqlite") as db:
        gens = db.execute("SELECT problem, status, extraction FROM generators ORDER BY problem").fetchall()
        assert gens == [("rainfall", "done", "ok"), ("summit", "done", "no_code")]
        # the generators are not samples: never judged, never scored
        assert db.execute("SELECT COUNT(*) FROM generations WHERE key LIKE '%#input-generator%'").fetchone() == (0,)
    report = _select(replayed_run)
    assert {s["name"]: s["information"] for s in report["strategies"]}["oracle"] == "hidden"
    run = report["runs"][0]
    rain = next(p for p in run["problems"] if p["problem"] == "rainfall")
    assert rain["inputs"]["origin"] == "generated" and rain["inputs"]["count"] == 6 and rain["inputs"]["failed"] == 0
    s = rain["scores"]
    # the 32-bit one fails the examples; the default submits the longest of the others first: the naive one (30);
    # clustering puts the two that agree on every generated input (model, Fenwick) before the naive one (a TLE on
    # seed 1 sets it apart) and submits the longer of them, the model solution
    assert s["ioi-eval"]["1"]["points"] == s["openr1"]["1"]["points"] == s["public-tests"]["1"]["points"] == 30.0
    assert s["cluster"]["1"]["points"] == 100.0
    assert s["ioi-eval"]["2"]["points"] == 100.0
    assert s["oracle"]["all"]["points"] == 100.0 and s["public-tests"]["all"]["points"] == 100.0
    assert s["random"]["1"]["low"] == 30.0 and s["random"]["1"]["high"] == 100.0
    summit = next(p for p in run["problems"] if p["problem"] == "summit")
    assert summit["inputs"]["origin"] == "samples" and "gave no code" in summit["inputs"]["note"]
    assert summit["scores"]["cluster"]["all"]["points"] == summit["scores"]["oracle"]["all"]["points"] == 100.0
    assert run["work"]["runs"] > 0 and run["work"]["generator_runs"] == 6
    summary = {p["problem"]: p for p in json.loads((replayed_run / "summary.json").read_text())["problems"]}
    for p in run["problems"]:  # the run's own figures: its rule (4 samples < 50: all submitted) and its oracle
        assert p["scores"]["ioi-eval"]["all"]["points"] == summary[p["problem"]]["score"]
        assert p["scores"]["oracle"]["all"]["points"] == summary[p["problem"]]["oracle"]
    saved = json.loads((replayed_run / "select.json").read_text())
    assert saved["runs"][0]["totals"] == run["totals"] and saved["schema"] == "ioi-eval/select"
    with sqlite3.connect(replayed_run / "run.sqlite") as db:
        runs = db.execute("SELECT COUNT(*) FROM extra_runs WHERE key LIKE 'rainfall/%'").fetchone()[0]
    assert runs == 3 * 6  # the three that pass the examples ran once on each input


def test_second_select_runs_nothing_in_the_sandbox(replayed_run: Path) -> None:
    first = _select(replayed_run, "--strategy", "cluster")
    # a backend that cannot open here (no E2B key): the second select never opens a box
    res = cli("select", str(replayed_run), "--budget", "1,2,all", "--json", "--strategy", "cluster", "--backend", "e2b",
              cwd=replayed_run.parent, env={"E2B_API_KEY": ""})
    assert res.returncode == 0, res.stderr
    again = json.loads(res.stdout)
    assert again["runs"][0]["work"] == {**again["runs"][0]["work"], "runs": 0, "generator_runs": 0, "sandbox_s": 0.0}
    assert again["runs"][0]["work"]["cached"] == first["runs"][0]["work"]["cached"] > 0
    assert again["runs"][0]["totals"] == first["runs"][0]["totals"]


def test_tables_label_hidden_information_and_bad_options_are_clear(replayed_run: Path) -> None:
    res = cli("select", str(replayed_run), "--strategy", "oracle,ioi-eval", "--budget", "1,all", "--md",
              cwd=replayed_run.parent)
    assert res.returncode == 0, res.stderr
    assert "| oracle | HIDDEN (ceiling, not a contest result) |" in res.stdout
    assert "| ioi-eval | public |" in res.stdout
    for args, message in ((["--strategy", "best"], "unknown selection strategy 'best'"),
                          (["--budget", "0"], "--budget: '0'"),
                          (["--json", "--md"], "choose one")):
        bad = cli("select", str(replayed_run), *args, cwd=replayed_run.parent)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr
    missing = cli("select", str(replayed_run.parent / "nope"), cwd=replayed_run.parent)
    assert missing.returncode == 2 and "no such run folder" in missing.stderr
    moved = cli("select", str(replayed_run), "--problems", str(replayed_run.parent / "gone"), cwd=replayed_run.parent)
    assert moved.returncode == 2 and "cannot be loaded" in moved.stderr and "Traceback" not in moved.stderr


def test_a_damaged_select_json_is_a_clear_error_in_the_site(replayed_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(replayed_run, copy)
    (copy / "select.json").write_text('{"schema": "ioi-eval/select", "version": 1, "runs": "nope"}')
    res = cli("leaderboard", str(copy), "--html", str(tmp_path / "site"), cwd=tmp_path)
    assert res.returncode == 2 and "select.json: not a select.json of this version" in res.stderr
    assert "Traceback" not in res.stderr


def test_selection_page_in_the_leaderboard_site(replayed_run: Path, tmp_path: Path) -> None:
    """The site's selection page: a line per public strategy over the budgets, the oracle as a dashed ceiling."""
    chromium = shutil.which("chromium")
    require(chromium is not None, "Debian's chromium is not installed (run scripts/setup-browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install 'ioi-eval[test]')")
        return
    _select(replayed_run)  # select.json with every strategy
    site = tmp_path / "site"
    res = cli("leaderboard", str(replayed_run), "--html", str(site), cwd=replayed_run.parent)
    assert res.returncode == 0, res.stderr
    [page_file] = (site / "selection").glob("*.html")  # selection/<the run's id>.html
    model_page = site / "models" / page_file.name
    assert model_page.is_file()
    own = cli("select", str(replayed_run), "--budget", "1,2,all", "--md", "--html", str(tmp_path / "own"),
              cwd=replayed_run.parent)
    assert own.returncode == 0 and (tmp_path / "own" / "selection" / f"{replayed_run.name}.html").is_file()
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("requestfailed", lambda r: errors.append(f"failed to load {r.url}"))
        page.goto(model_page.as_uri())
        page.get_by_role("link", name="Selection: points by submission strategy and budget").click()
        assert page.url == page_file.as_uri()
        assert page.locator("h1").inner_text() == f"Selection: {replayed_run.name}"
        chart = page.locator("svg.chart")
        assert chart.count() == 1
        assert chart.locator("polyline").count() == 5  # the public strategies; the oracle is the ceiling
        assert chart.locator("g.ceiling").count() == 1 and chart.locator("polygon.band").count() == 1
        assert chart.locator("circle.point").count() == 5 * 3
        oracle_row = page.locator("#totals tbody tr.hidden")
        assert oracle_row.count() == 1 and "HIDDEN" in oracle_row.inner_text()
        assert page.locator("#totals tbody tr.public").count() == 5
        page.screenshot(path=str(tmp_path / "selection.png"), full_page=True)
        browser.close()
    assert not errors, errors


def test_reference_run_clusters_on_the_sample_inputs_and_says_so(tmp_path: Path) -> None:
    run_dir = tmp_path / "ref"
    res = cli("run", "--model", "reference", "--problems", str(PROBLEMS), "--only", "rainfall", "--run-dir",
              str(run_dir), "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    report = _select(run_dir, "--strategy", "cluster,oracle,public-tests")
    [rain] = report["runs"][0]["problems"]
    assert rain["inputs"]["origin"] == "samples" and rain["inputs"]["count"] == 2
    assert "without --generate-inputs" in rain["inputs"]["note"]
    assert rain["scores"]["cluster"]["all"]["note"] == rain["inputs"]["note"]
    assert rain["scores"]["oracle"]["all"]["points"] == rain["scores"]["cluster"]["all"]["points"] == 100.0
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        ran = {k for (k,) in db.execute("SELECT DISTINCT key FROM extra_runs")}
        outcomes = {o for (o,) in db.execute("SELECT outcome FROM extra_runs")}
    assert ran == {"rainfall/reference/0"}  # judged from the package's file: its source ran on the sample inputs
    assert len(outcomes) == 2 and all(o.startswith("OK:") for o in outcomes)


def test_generator_failures_are_counted_and_never_inputs(tmp_path: Path) -> None:
    from ioi_eval.judge.judge import Judge
    from ioi_eval.record.store import GeneratorRecord, RunStore
    from ioi_eval.select.behaviour import BehaviourRunner
    from ioi_eval.sources.loader import load_problem

    problem = load_problem(PROBLEMS / "rainfall")
    store = RunStore(tmp_path / "run.sqlite")
    runner = BehaviourRunner(store, lambda: Judge("local", workers=2))
    try:
        def gen(code: str) -> GeneratorRecord:
            return GeneratorRecord(key="rainfall/#input-generator/0", problem="rainfall", language="cpp",
                                   status="done", text="", error=None, code=code, extraction="ok", note=None)

        odd_crashes = ("#include <cstdio>\n#include <cstdlib>\nint main(int c, char** v) { int s = atoi(v[1]);"
                       " if (s % 2) abort(); if (s == 4) return 0; printf(\"1 1\\n%d\\n1 1\\n\", s); }")
        made = runner.generated_inputs(problem, gen(odd_crashes), 4)
        assert [(i.name, i.sha256 is not None) for i in made] == [
            ("seed-1", False), ("seed-2", True), ("seed-3", False), ("seed-4", False)]
        assert made[0].error.startswith("RE") and made[3].error == "empty output" and made[1].data == b"1 1\n2\n1 1\n"
        assert runner.work.generator_runs == 4
        again = runner.generated_inputs(problem, gen(odd_crashes), 4)  # from the store: nothing runs
        assert again == made and runner.work.generator_runs == 4
        store.save_extra_inputs("rainfall", [])
        broken = runner.generated_inputs(load_problem(PROBLEMS / "pairsum"), gen("int main( {"), 2)
        assert all(i.sha256 is None and "does not compile" in (i.error or "") for i in broken) and len(broken) == 2
    finally:
        runner.close()
        store.close()
