"""``ioi-eval leaderboard``: bootstrap intervals, medals from data, every format, bad run folders, the site.

Two replayed "models" (``tests/fixtures/leaderboard_runs.py``) give runs with several samples per prompt and
every verdict; the site in a browser is tests/system/test_site.py's.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ioi_eval.errors import IoiEvalError
from ioi_eval.report.build import build_leaderboard
from ioi_eval.report.formats import to_csv, to_json, to_markdown
from ioi_eval.report.html import write_site
from ioi_eval.report.model import Leaderboard
from ioi_eval.scoring.bootstrap import bootstrap_ci
from ioi_eval.scoring.medals import award, contests, medal_line
from tests.conftest import PROBLEMS
from tests.fixtures.leaderboard_runs import MODELS, contests_file, make_run


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "COLUMNS": "250"})


# -- bootstrap ---------------------------------------------------------------------------------------

def _scores(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.choice([0, 0, 10, 30, 60, 100]) for _ in range(n)]


def test_bootstrap_is_seeded_and_reproducible() -> None:
    data = [[_scores(20, 1), _scores(15, 2)]]
    a, b = bootstrap_ci(data, seed=7), bootstrap_ci(data, seed=7)
    assert a == b
    others = {(bootstrap_ci(data, seed=s).low, bootstrap_ci(data, seed=s).high) for s in range(5)}
    assert len(others) > 1  # the seed is used: different seeds draw different resamples


@pytest.mark.parametrize("seed", range(8))
def test_bootstrap_contains_the_mean(seed: int) -> None:
    problems = [[_scores(12, seed)], [_scores(5, seed + 100), _scores(9, seed + 200)]]
    ci = bootstrap_ci(problems, seed=seed)
    assert ci is not None
    expected = sum(round(sum(sum(g) for g in p) / sum(len(g) for g in p), 2) for p in problems)
    assert ci.mean == pytest.approx(expected)
    assert ci.low <= ci.mean <= ci.high
    assert ci.low < ci.high  # varied scores: a real interval
    assert ci.n == 12 + 5 + 9


def test_bootstrap_narrows_with_more_samples() -> None:
    widths = []
    for n in (10, 100, 1000):
        ci = bootstrap_ci([[_scores(n, 3)]], seed=0)
        assert ci is not None
        widths.append(ci.high - ci.low)
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[0] / widths[2] > 5  # about sqrt(100) = 10 in theory


def test_bootstrap_degenerate_cases() -> None:
    one = bootstrap_ci([[[42.5]]])
    assert one is not None and one.low == one.mean == one.high == 42.5 and one.n == 1
    same = bootstrap_ci([[[30.0] * 10, [70.0] * 3]])  # no spread within a group: nothing to vary
    assert same is not None and same.low == same.high == same.mean
    assert bootstrap_ci([]) is None and bootstrap_ci([[[]], [[]]]) is None
    total = bootstrap_ci([[[10.0]], [], [[20.0, 20.0]]])  # a problem without samples adds nothing
    assert total is not None and total.mean == 30.0
    with pytest.raises(ValueError):
        bootstrap_ci([[[1.0]]], confidence=1.5)


def test_bootstrap_higher_confidence_is_wider() -> None:
    data = [[_scores(30, 9)]]
    narrow, wide = bootstrap_ci(data, confidence=0.5), bootstrap_ci(data, confidence=0.99)
    assert narrow is not None and wide is not None
    assert wide.low <= narrow.low and narrow.high <= wide.high and wide.high - wide.low > narrow.high - narrow.low


# -- medals ------------------------------------------------------------------------------------------

def test_medal_cutoffs_come_from_data(tmp_path: Path) -> None:
    ioi = contests()["ioi2024"]
    assert ioi["cutoffs"] == {"gold": 359.71, "silver": 289.31, "bronze": 216.97} and ioi["max_score"] == 600
    codes = set(ioi["problems"])
    assert award(codes, 359.71).medal == "gold"
    assert award(codes, 359.70).medal == "silver"
    assert award(codes, 289.31).medal == "silver"
    assert award(codes, 216.97).medal == "bronze"
    assert award(codes, 216.96).medal is None
    assert award(codes, 0).cutoffs["bronze"] == 216.97
    assert award({"nile", "tree"}, 400).partial
    assert award({"rainfall"}, 100) is None
    assert "gold" in medal_line(codes, 400) and "no medal" in medal_line(codes, 10)
    # the same totals against other data give other medals: nothing is hard-coded
    custom = contests(contests_file(tmp_path / "c.json", gold=150, silver=100, bronze=50))
    assert award({"rainfall", "pairsum"}, 120, custom).medal == "silver"
    assert award({"rainfall", "pairsum"}, 120, custom).contest_name == "Bundled Open"


@pytest.mark.parametrize("content", ["{not json", '{"x": {"name": "X", "problems": ["a"], "max_score": 1, '
                                                 '"cutoffs": {"gold": 1}}}', '["a list"]'])
def test_bad_contests_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "contests.json"
    path.write_text(content)
    with pytest.raises(IoiEvalError, match=r"contests\.json"):
        contests(path)


# -- runs and formats --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("leaderboard")
    return {name: make_run(root, name) for name in MODELS}


@pytest.fixture(scope="module")
def board(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Leaderboard:
    cfile = contests_file(tmp_path_factory.mktemp("contests") / "contests.json", gold=190, silver=150, bronze=100)
    return build_leaderboard([runs["weak-model"], runs["strong-model"]], cfile)


def test_leaderboard_content(board: Leaderboard, runs: dict[str, Path]) -> None:
    strong, weak = board.entries
    assert [e.label for e in board.entries] == ["strong-model", "weak-model"]
    assert [e.rank for e in board.entries] == [1, None]  # the incomplete run is listed, not ranked
    assert strong.award.medal == "gold" and weak.award.medal == "bronze" and not strong.award.partial
    assert [p.code for p in board.problems] == ["pairsum", "rainfall"]
    for e in board.entries:
        summary = json.loads((Path(e.run_dir) / "summary.json").read_text())
        assert e.total == summary["total"] and e.oracle_total == summary["oracle_total"]
        assert e.mean_single_total == summary["mean_single_total"] == e.mean_single_ci.mean
        assert e.mean_single_ci.low <= e.mean_single_total <= e.mean_single_ci.high
        for p in e.problems:
            assert p.mean_single_ci.low <= p.mean_single <= p.mean_single_ci.high
            assert p.mean_single == p.mean_single_ci.mean
            assert sum(p.verdicts.values()) == p.samples
            assert all(sum(st.verdicts.values()) == p.samples for st in p.subtasks)
        assert e.submissions_used == sum(p["submissions_used"] for p in summary["problems"])
    assert strong.total == 200 and strong.complete and weak.total < strong.total
    assert not weak.complete and any("not finished" in n for n in weak.notes)  # one completion is missing
    rain = weak.problem("rainfall")
    assert rain.samples == 11 and rain.failed_generations == 1 and rain.no_code == 2
    for verdict in ("WA", "TLE", "MLE", "RE", "CE", "NC"):
        assert rain.verdicts[verdict] > 0, (verdict, rain.verdicts)
    full = next(st for st in rain.subtasks if st.name == "04-full")
    assert full.best == 0 and full.verdicts["TLE"] == 1 and full.verdicts["NC"] == 2
    assert strong.problem("rainfall").verdicts["AC"] == 7
    assert board.entries[0].mean_single_ci.low > board.entries[1].mean_single_ci.high  # a real gap, not noise


def test_formats_parse_back(board: Leaderboard) -> None:
    assert Leaderboard.model_validate(json.loads(to_json(board))) == board
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert [r["model"] for r in rows] == ["strong-model", "weak-model"]
    for r, e in zip(rows, board.entries, strict=True):
        assert float(r["total"]) == e.total and r["medal"] == e.award.medal
        assert float(r["mean_single_ci_low"]) == e.mean_single_ci.low
        assert float(r["rainfall"]) == e.problem("rainfall").score
        assert float(r["pairsum_mean_single"]) == e.problem("pairsum").mean_single
    md = to_markdown(board)
    table = [line for line in md.splitlines() if line.startswith("|")]
    assert len(table) == 2 + len(board.entries)
    widths = {len([c for c in line.strip("|").split(" | ")]) for line in (table[0], *table[2:])}
    assert widths == {len(table[1].strip("|").split("|"))}
    assert "strong-model" in table[2] and "gold" in table[2]


def test_cli_formats(runs: dict[str, Path], tmp_path: Path) -> None:
    dirs = [str(runs["strong-model"]), str(runs["weak-model"])]
    res = cli("leaderboard", *dirs, "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lb = Leaderboard.model_validate_json(res.stdout)
    assert lb.entries[0].award is None  # bundled data: no cutoffs for the bundled problems
    assert "weak-model: 1 generation(s) not finished" in res.stderr
    res = cli("leaderboard", *dirs, "--format", "csv", "--seed", "3", "--resamples", "500", "--confidence", "0.9",
              cwd=tmp_path)
    assert res.returncode == 0 and len(list(csv.reader(io.StringIO(res.stdout)))) == 3
    res = cli("leaderboard", *dirs, cwd=tmp_path)
    assert res.returncode == 0 and "strong-model" in res.stdout and "95% CI" in res.stdout
    res = cli("leaderboard", *dirs, "--format", "xml", cwd=tmp_path)
    assert res.returncode == 2 and "--format" in res.stderr


def test_missing_summary_is_rescored(runs: dict[str, Path], tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(runs["weak-model"], copy)
    (copy / "summary.json").unlink()
    lb = build_leaderboard([copy])
    original = build_leaderboard([runs["weak-model"]])
    assert lb.entries[0].total == original.entries[0].total
    assert any("scored afresh" in n for n in lb.entries[0].notes)


def _set_config(run: Path, **changes: object) -> None:
    with sqlite3.connect(run / "run.sqlite") as db:
        config = json.loads(db.execute("SELECT value FROM meta WHERE key='config'").fetchone()[0])
        config.update(changes)
        db.execute("UPDATE meta SET value=? WHERE key='config'", (json.dumps(config),))


def test_same_model_twice_and_hostile_names(runs: dict[str, Path], tmp_path: Path) -> None:
    """Two runs of one model are told apart; a model name full of markup is text everywhere."""
    twin = tmp_path / "twin"
    shutil.copytree(runs["strong-model"], twin)
    evil = tmp_path / "evil"
    shutil.copytree(runs["weak-model"], evil)
    name = 'x<script>alert("pwned")</script> | &amp;'
    _set_config(evil, model=name, engine="openai")
    lb = build_leaderboard([runs["strong-model"], twin, evil])
    assert [e.rank for e in lb.entries] == [1, 1, None]  # a tie shares its rank; the incomplete one has none
    assert lb.entries[0].label != lb.entries[1].label and len({e.id for e in lb.entries}) == 3
    assert lb.entries[2].label == name and "/" not in lb.entries[2].id and "<" not in lb.entries[2].id
    site = tmp_path / "site"
    write_site(lb, site)
    for page in site.rglob("*.html"):
        assert "<script>alert" not in page.read_text(), page
    assert "&lt;script&gt;" in (site / "index.html").read_text()
    md = [line for line in to_markdown(lb).splitlines() if line.startswith("|")]
    assert {line.count(" | ") for line in md if "---" not in line} == {md[0].count(" | ")}  # "|" escaped
    assert [r["model"] for r in csv.DictReader(io.StringIO(to_csv(lb)))][2] == name


def test_runs_of_different_problem_sets(runs: dict[str, Path], tmp_path: Path) -> None:
    """A reference run of one problem beside the replayed runs: caveats, blanks, a zero-width interval."""
    ref = tmp_path / "ref"
    res = cli("run", "--model", "reference", "--problems", str(PROBLEMS), "--only", "pairsum", "--run-dir", str(ref),
              cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    lb = build_leaderboard([runs["strong-model"], ref])
    assert any("different problem sets" in n for n in lb.notes) and any("samples per prompt" in n for n in lb.notes)
    entry = next(e for e in lb.entries if e.label == "reference")
    assert entry.problem("rainfall") is None and entry.total == 100
    ci = entry.problem("pairsum").mean_single_ci
    assert ci.n == 1 and ci.low == ci.mean == ci.high == 100  # one sample: nothing to resample
    row = next(r for r in csv.DictReader(io.StringIO(to_csv(lb))) if r["model"] == "reference")
    assert row["rainfall"] == "" and row["pairsum"] == "100"
    assert "different problem sets" in to_markdown(lb)
    site = tmp_path / "site"
    write_site(lb, site)
    assert "different problem sets" in (site / "index.html").read_text()
    assert build_leaderboard([runs["strong-model"], runs["weak-model"]]).notes == []


def _corrupt(kind: str, runs: dict[str, Path], tmp: Path) -> tuple[Path, str]:
    run = tmp / "run"
    if kind == "missing":
        return tmp / "nowhere", "no such run folder"
    run.mkdir()
    if kind == "empty":
        return run, "no run.sqlite"
    if kind == "garbage":
        (run / "run.sqlite").write_bytes(b"this is not sqlite at all" * 100)
        return run, "not a readable run store"
    if kind == "foreign":
        sqlite3.connect(run / "run.sqlite").execute("CREATE TABLE t(x)").connection.close()
        return run, "not a readable run store"
    shutil.rmtree(run)
    shutil.copytree(runs["strong-model"], run)
    if kind == "summary":  # damaged summary and the problems moved away: nothing to score with
        (run / "summary.json").write_text("{oops")
        _set_config(run, problems=str(tmp / "moved-away"))
        return run, "summary.json is damaged"
    if kind == "report":
        with sqlite3.connect(run / "run.sqlite") as db:
            db.execute("UPDATE submissions SET report='{\"broken\": 1}' WHERE report IS NOT NULL")
        return run, "judge report of"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "foreign", "summary", "report"])
def test_bad_run_folder_is_a_clear_error(kind: str, runs: dict[str, Path], tmp_path: Path) -> None:
    path, message = _corrupt(kind, runs, tmp_path)
    res = cli("leaderboard", str(runs["strong-model"]), str(path), cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr and str(path.name) in res.stderr and "Traceback" not in res.stderr, res.stderr
    if kind == "foreign":  # read-only: the foreign database was not given our tables
        assert sqlite3.connect(path / "run.sqlite").execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]


def test_stale_summary_is_used_with_a_note(runs: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["strong-model"], run)
    summary = json.loads((run / "summary.json").read_text())
    summary["problems"][0]["judged"] += 1  # as if the run had judged more after writing it
    (run / "summary.json").write_text(json.dumps(summary))
    lb = build_leaderboard([run])
    assert any("scored afresh" in n for n in lb.entries[0].notes)  # the problems are here: rescored
    assert lb.entries[0].complete and lb.entries[0].total == 200
    _set_config(run, problems=str(tmp_path / "moved-away"))  # now they are not: the summary is used as it is
    lb = build_leaderboard([run])
    assert any("used as it is" in n for n in lb.entries[0].notes) and lb.entries[0].total == 200


# -- the site ----------------------------------------------------------------------------------------

def test_site_files(board: Leaderboard, tmp_path: Path) -> None:
    site = tmp_path / "site"
    index = write_site(board, site)
    assert index == site / "index.html"
    assert Leaderboard.model_validate_json((site / "leaderboard.json").read_text()) == board
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    assert pages == ["index.html", "models/strong-model.html", "models/strong-model/pairsum/1.html",
                     "models/strong-model/rainfall/1.html", "models/weak-model.html",
                     "models/weak-model/pairsum/1.html", "models/weak-model/rainfall/1.html", "problems/pairsum.html",
                     "problems/rainfall.html"]
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert "https://" not in html and "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "<svg" in html or page.parent.parent.parent.name == "models", page  # submission pages: no chart
    write_site(board, site)  # rebuilding over an earlier site is fine
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(IoiEvalError, match="not a leaderboard site"):
        write_site(board, other)


def test_stale_summary_note_says_why_the_problems_did_not_load(runs: dict[str, Path], tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(runs["strong-model"], run)
    (run / "summary.json").write_text("{oops")
    (tmp_path / "emptied").mkdir()  # the problem folder is still there, but its packages are gone
    _set_config(run, problems=str(tmp_path / "emptied"))
    res = cli("leaderboard", str(run), cwd=tmp_path)
    assert res.returncode == 2 and "summary.json is damaged" in res.stderr, res.stderr
    assert "not available to score it (" in res.stderr and "Traceback" not in res.stderr, res.stderr
