"""The leaderboard site as a published board: checked in Debian's chromium through Playwright at 1400 px and 390 px,
and kept small for a run of thousands of samples.

The board holds three real runs: two replayed "models" on rainfall and pairsum (``tests/fixtures/leaderboard_runs.py``;
the weak one is incomplete) and the reference solutions on every bundled problem. The large run is written through
the run store's API (requests planned by ``run/plan.py``, reports as the judge's models), not as hand-made rows.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ioi_eval
from ioi_eval.generate.base import Completion
from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, TestResult, Verdict
from ioi_eval.record.config import RunConfig
from ioi_eval.record.folder import RunFolder
from ioi_eval.record.metadata import META_KEY, assemble, now, save_cards
from ioi_eval.report.build import build_leaderboard
from ioi_eval.report.html import write_site
from ioi_eval.report.model import Leaderboard
from ioi_eval.report.submissions import CODE_CAP, PAGE_SIZE, TEXT_CAP
from ioi_eval.run.plan import build_requests
from ioi_eval.scoring.run_score import score_run
from ioi_eval.sources import load_problem_set
from tests.conftest import PROBLEMS
from tests.fixtures.leaderboard_runs import MODELS, make_run
from tests.fixtures.strict import require

WIDTHS = (1400, 390)


@pytest.fixture(scope="module")
def board(tmp_path_factory: pytest.TempPathFactory) -> Leaderboard:
    root = tmp_path_factory.mktemp("site-runs")
    runs = [make_run(root, name) for name in MODELS]
    ref = root / "runs" / "reference"
    res = subprocess.run([sys.executable, "-m", "ioi_eval.cli", "run", "--model", "reference", "--problems",
                          str(PROBLEMS), "--run-dir", str(ref)], cwd=root, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "COLUMNS": "200"})
    assert res.returncode == 0, res.stderr
    return build_leaderboard([*runs, ref])


@pytest.fixture(scope="module")
def site(board: Leaderboard, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    write_site(board, out)
    return out


def test_board_data(board: Leaderboard) -> None:
    assert [(e.label, e.rank) for e in board.entries] == [("reference", 1), ("strong-model", 2), ("weak-model", None)]
    assert board.ioi_eval_version == ioi_eval.__version__
    assert board.title == f"{PROBLEMS.name} leaderboard"  # the runs cover different selections: no one version
    rain = next(p for p in board.problems if p.code == "rainfall")
    assert rain.task_type == "Batch" and rain.time_limit == 1 and rain.memory_limit == 256 << 20
    assert rain.statement and "Rainfall" in rain.statement


def test_reference_submissions_show_their_files(site: Path) -> None:
    page = (site / "models" / "reference" / "pairsum" / "1.html").read_text()
    solution = (PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp").read_text()
    assert "judged from the file" in page and solution.splitlines()[0].replace('"', "&#34;") in page
    assert "No code could be taken" not in page


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    require(chromium is not None, "Debian's chromium is not installed (run scripts/setup-browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "playwright is not installed (pip install 'ioi-eval[test]')")
        return
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium)
        yield b
        b.close()


def _artifacts() -> Path | None:
    root = os.environ.get("IOI_EVAL_ARTIFACTS")
    if not root:
        return None
    out = Path(root) / "leaderboard"
    out.mkdir(parents=True, exist_ok=True)
    return out


def _page(browser: Any, width: int, errors: list[str]) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    page.on("requestfailed", lambda r: errors.append(f"{page.url}: failed to load {r.url}"))
    return page


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_loads_fits_and_links_resolve(site: Path, browser: Any, width: int) -> None:
    """Every page reachable from the index: one h1, no console error, no sideways overflow, every link a file."""
    errors: list[str] = []
    page = _page(browser, width, errors)
    seen: set[Path] = set()
    todo = [site / "index.html"]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        page.goto(current.as_uri())
        assert page.locator("h1").count() == 1, current
        overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], f"{current.relative_to(site)} overflows at {width} px: {overflow}"
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
            assert href.startswith("file://"), href
            target = Path(href.removeprefix("file://").split("#")[0])
            assert target.is_file(), f"{current.relative_to(site)}: broken link {href}"
            if target.suffix == ".html":
                todo.append(target)
    pages = {p.relative_to(site).as_posix() for p in seen}
    assert pages == {p.relative_to(site).as_posix() for p in site.rglob("*.html")}  # every page is reachable
    assert "models/weak-model/rainfall/1.html" in pages and "problems/towers.html" in pages
    page.close()
    assert not errors, errors


def test_index_overview_and_settings(site: Path, browser: Any, board: Leaderboard) -> None:
    errors: list[str] = []
    page = _page(browser, 1400, errors)
    page.goto((site / "index.html").as_uri())
    assert page.title().startswith("Leaderboard")
    h1 = page.locator("h1").inner_text()
    byline = page.locator("p.byline").inner_text()
    assert PROBLEMS.name in h1
    assert f"ioi-eval {ioi_eval.__version__}" in byline and board.generated_at.strftime("%Y-%m-%d") in byline
    # the overview fits a 1400 px screen (7 problem columns), and the incomplete run is listed apart, unranked
    fits = page.evaluate("(() => { const t = document.querySelector('#overview'); "
                         "return [t.scrollWidth, t.parentElement.clientWidth]; })()")
    assert fits[0] <= fits[1], fits
    names = lambda sel: [n.split(" ")[0] for n in page.locator(f"{sel} tbody td.c-model").all_inner_texts()]  # noqa
    assert names("#overview") == ["reference", "strong-model"] and names("#incomplete-runs") == ["weak-model"]
    assert page.locator("#incomplete-runs tbody td.rank").inner_text() == "-"
    # sorting still works
    page.locator("#overview").get_by_role("button", name="model").click()
    assert names("#overview") == ["reference", "strong-model"]
    page.locator("#overview").get_by_role("button", name="model").click()
    assert names("#overview") == ["strong-model", "reference"]
    page.locator("#overview").get_by_role("button", name="total").click()
    assert names("#overview") == ["reference", "strong-model"]
    # each run's settings
    header = page.locator("#settings-table thead th").all_inner_texts()
    for column in ("engine", "samples", "temperature", "max tokens"):
        assert any(column in h for h in header), header
    rows = {r.split("\t")[0]: r for r in page.locator("#settings-table tbody tr").all_inner_texts()}
    strong = rows["strong-model"]
    assert "replay" in strong and "3 per subtask" in strong and "0.7" in strong
    if (out := _artifacts()) is not None:
        page.screenshot(path=str(out / "index-1400.png"), full_page=True)
    page.close()
    assert not errors, errors


@pytest.mark.parametrize("width", WIDTHS)
def test_model_and_total_columns_are_sticky(site: Path, browser: Any, width: int) -> None:
    errors: list[str] = []
    page = _page(browser, width, errors)
    page.goto((site / "index.html").as_uri())
    for cls in ("c-model", "c-total"):
        positions = page.eval_on_selector_all(f"#overview .{cls}", "els => els.map(e => getComputedStyle(e).position)")
        assert positions and set(positions) == {"sticky"}, (cls, positions)
    # scrolled sideways as far as it goes: model and total stay at the left edge of the table's box
    where = page.evaluate("""(() => {
        const box = document.querySelector('#overview').parentElement;
        box.scrollLeft = box.scrollWidth;
        const row = document.querySelector('#overview tbody tr');
        const left = box.getBoundingClientRect().left;
        return [box.scrollLeft, left, row.querySelector('.c-model').getBoundingClientRect().left,
                row.querySelector('.c-model').getBoundingClientRect().right,
                row.querySelector('.c-total').getBoundingClientRect().left];
    })()""")
    scrolled, left, model_left, model_right, total_left = where
    if width < 1000:
        assert scrolled > 100  # the phone scrolls the table, not the page
    if scrolled:  # (at 1400 px the table fits: nothing scrolls)
        assert abs(model_left - left) <= 2 and abs(total_left - model_right) <= 2, where
    if (out := _artifacts()) is not None:
        page.screenshot(path=str(out / f"index-scrolled-{width}.png"), full_page=True)
    page.close()
    assert not errors, errors


def test_submission_drill_down(site: Path, browser: Any, board: Leaderboard) -> None:
    errors: list[str] = []
    page = _page(browser, 390, errors)
    page.goto((site / "models" / "weak-model.html").as_uri())
    page.locator("#problems").get_by_role("link", name="12 submission(s)").click()
    assert page.url.endswith("models/weak-model/rainfall/1.html")
    subs = page.locator("details.submission")
    assert subs.count() == 12  # 11 finished and the one that failed
    assert not subs.first.evaluate("d => d.open")  # collapsed until opened
    re_sub = page.locator("details.submission", has=page.locator("summary .v-RE")).first
    re_sub.locator("summary").first.click()
    assert re_sub.evaluate("d => d.open")
    code = re_sub.locator("details", has_text="Code").locator("pre").inner_text()
    assert "#include" in code
    tests = re_sub.locator("table.tests")
    assert tests.locator("thead th").all_inner_texts()[:6] == ["test", "verdict", "score", "CPU s", "wall s",
                                                               "memory MiB"]
    verdicts = tests.locator("tbody td:nth-child(2)").all_inner_texts()
    assert "RE" in verdicts and len(verdicts) == len(load_problem_set(str(PROBLEMS), ["rainfall"])[0].test_order())
    memory = [float(x) for x in tests.locator("tbody td:nth-child(6)").all_inner_texts()]
    assert max(memory) > 0
    completion = re_sub.locator("details", has_text="Completion")
    assert not completion.evaluate("d => d.open")
    completion.locator("summary").click()
    assert "My solution" in completion.locator("pre").inner_text()
    failed = page.locator("details.submission", has=page.locator("summary .v-FAILED"))
    assert failed.count() == 1
    overflow = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert overflow[0] <= overflow[1], overflow  # opened submissions do not widen the page either
    if (out := _artifacts()) is not None:
        page.screenshot(path=str(out / "submissions-390.png"), full_page=True)
    page.close()
    assert not errors, errors


def test_problem_page(site: Path, browser: Any) -> None:
    errors: list[str] = []
    page = _page(browser, 1400, errors)
    page.goto((site / "problems" / "rainfall.html").as_uri())
    facts = page.locator("dl.facts").inner_text()
    assert "Batch" in facts and "1 s" in facts and "256 MiB" in facts
    statement = page.locator("details.statement")
    assert statement.evaluate("d => d.open") and statement.locator(".markdown h4").count() >= 2
    page.goto((site / "problems" / "relay.html").as_uri())  # a communication problem, only the reference ran it
    assert "Communication" in page.locator("dl.facts").inner_text()
    page.close()
    assert not errors, errors


# -- a run of thousands of samples ---------------------------------------------------------------------------

def _report(problem: Any, rng: random.Random) -> JudgeReport:
    names = problem.test_order()
    verdicts = [rng.choice([Verdict.AC, Verdict.AC, Verdict.WA, Verdict.TLE]) for _ in names]
    tests = [TestResult(name=n, verdict=v, score=1.0 if v == Verdict.AC else 0.0, cpu_s=rng.random(),
                        wall_s=rng.random(), memory_bytes=rng.randrange(1 << 20, 256 << 20), message="Output isn't "
                        "correct" if v == Verdict.WA else "") for n, v in zip(names, verdicts, strict=True)]
    ok = {t.name: t.verdict == Verdict.AC for t in tests}
    subtasks = [SubtaskResult(name=st.name, points=st.points, score=st.points if all(ok[t] for t in st.tests) else 0,
                              status=Verdict.AC if all(ok[t] for t in st.tests) else Verdict.WA)
                for st in problem.subtasks]
    return JudgeReport(problem=problem.code, score=sum(s.score for s in subtasks), max_score=problem.max_score,
                       compile=CompileResult(ok=True), subtasks=subtasks, tests=tests)


def test_a_run_of_thousands_of_samples_makes_a_small_site(tmp_path: Path) -> None:
    problem = load_problem_set(str(PROBLEMS), ["rainfall"])[0]
    samples = 750
    config = RunConfig(model="big-model", engine="openai", problems=str(PROBLEMS.resolve()),
                       problem_codes=["rainfall"], samples=samples)
    folder = RunFolder(tmp_path / "big")
    store = folder.open_store()
    store.set_meta("config", config.stored())
    requests, sources = build_requests(config, [problem], None)
    assert len(requests) >= 3000
    store.add_requests(requests, sources)
    rng = random.Random(1)
    huge = 0
    for i, r in enumerate(requests):
        code = "#include <cstdio>\nint main() { return 0; }\n"
        text = f"Here it is:\n```cpp\n{code}```\n"
        reasoning = None
        if i % 100 == 0:  # a few rambling answers: far longer than any page may hold
            huge += 1
            code += "// " + "x" * (4 * CODE_CAP) + "\n"
            text = "y" * (30 * TEXT_CAP)
            reasoning = "z" * (30 * TEXT_CAP)
        store.save_completion(Completion(key=r.key, text=text, reasoning=reasoning, finish_reason="stop",
                                         completion_tokens=len(text) // 4))
        store.save_extraction(r.key, code, "ok")
        report = _report(problem, rng)
        store.save_report(r.key, report.model_dump_json(), report.score)
    save_cards(store, [problem])
    score = score_run(store, {problem.code: problem}, config.label)
    meta = assemble(config, [problem], template=None, loads_hub_weights=False, backend="local", box_info=None,
                    started_at=now(), finished_at=now(), prompts_sha256=store.prompts_sha256())
    store.set_meta(META_KEY, meta.model_dump(mode="json"))
    store.close()
    folder.summary_path.write_text(score.model_dump_json())

    lb = build_leaderboard([folder.root])
    site = tmp_path / "site"
    write_site(lb, site)
    files = [p for p in site.rglob("*") if p.is_file()]
    sizes = {p.relative_to(site).as_posix(): p.stat().st_size for p in files}
    pages = sorted(p for p in sizes if p.startswith("models/big-model/rainfall/"))
    assert len(pages) == -(-len(requests) // PAGE_SIZE)
    total, largest = sum(sizes.values()), max(sizes.items(), key=lambda kv: kv[1])
    # about 3 KB a submission (its 13 tests, code and answer), the rambling ones cut to their caps
    assert total < 15_000_000, total
    assert largest[1] < 300_000, largest
    assert sizes["models/big-model.html"] < 100_000 and sizes["index.html"] < 100_000
    first = (site / pages[0]).read_text()
    assert "more characters are not shown" in first and "y" * (TEXT_CAP + 1) not in first
    print(f"\n{len(requests)} samples: {len(files)} files, {total / 1e6:.1f} MB, largest {largest[0]} "
          f"{largest[1] / 1e3:.0f} KB")
