"""Tables fitted to the terminal: never wider than it, numbers whole, words whole, least useful columns left out."""

from __future__ import annotations

import io
import random
import re

import pytest
from rich.console import Console

from ioi_eval.tables import ALWAYS, Col, fit_table, natural_width, print_fitted


def _render(columns, rows, width, **kw) -> tuple[list[str], list[str]]:
    console = Console(file=io.StringIO(), width=width, force_terminal=False)
    fitted = print_fitted(console, columns, rows, **kw)
    return console.file.getvalue().splitlines(), fitted.dropped


COLUMNS = [Col("problem"), Col("subtasks (best of selected)", short="subtasks", keep=35),
           Col("score", numeric=True), Col("oracle", numeric=True, keep=30),
           Col("mean single", short="mean", numeric=True, keep=40), Col("used", numeric=True, keep=20),
           Col("no code", numeric=True, keep=25), Col("failed", numeric=True, keep=25)]


def _rows(seed: int, n: int = 6) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        subs = " ".join(f"{rng.choice([0, 5, 12.5, 30])}/{p}" for p in (10, 20, 30, 40, 100)[: rng.randint(1, 5)])
        rows.append([f"problem_{i}_" + "x" * rng.randint(0, 12), subs, f"{rng.uniform(0, 300):.4g}/300",
                     str(rng.randint(0, 300)), f"{rng.uniform(0, 100):.2f}", str(rng.randint(1, 50)),
                     str(rng.randint(0, 9)), str(rng.randint(0, 2000))])
    return rows


@pytest.mark.parametrize("width", [40, 60, 80, 100, 120, 200])
@pytest.mark.parametrize("seed", range(4))
def test_never_wider_than_the_terminal_and_numbers_whole(width: int, seed: int) -> None:
    rows = _rows(seed)
    lines, dropped = _render(COLUMNS, rows, width, title="model")
    note_at = next((i for i, x in enumerate(lines) if x.startswith("left out at")), len(lines))
    table = lines[:note_at]
    assert max(len(x) for x in table) <= width
    text = "\n".join(table)
    tokens = set(re.findall(r"\S+", text))
    kept = [i for i, c in enumerate(COLUMNS) if c.header not in dropped]
    for row in rows:
        for i in kept:
            if COLUMNS[i].numeric:
                assert row[i] in tokens, (row[i], text)  # one token: never split over lines or cut
    assert "problem" in tokens and "score" in tokens  # headers of kept columns are readable
    if width >= 120:
        assert not dropped
    if dropped:  # the note names what was left out
        note = " ".join(" ".join(lines[note_at:]).split())
        assert note.startswith(f"left out at {width} columns: ") and all(h in note for h in dropped), note


def test_words_wrap_whole_and_no_sliver_columns() -> None:
    rows = [["a", "alpha beta gamma delta epsilon", "1"], ["b", "zeta eta theta", "22"]]
    cols = [Col("id"), Col("words"), Col("n", numeric=True)]
    lines, dropped = _render(cols, rows, 24)
    assert not dropped
    body = "\n".join(lines)
    for word in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]:
        assert re.search(rf"\b{word}\b", body), body
    fitted = fit_table(cols, rows, 24)
    assert all(c.width is None or c.width >= 2 for c in fitted.table.columns)
    assert min(c.width for c in fitted.table.columns if c.header != "n" and c.header != "id") >= 3


def test_the_least_useful_columns_go_first() -> None:
    cols = [Col("name"), Col("important", numeric=True, keep=90), Col("minor", numeric=True, keep=10),
            Col("total", numeric=True)]
    rows = [["x" * 10, "1234567890", "9876543210", "5555555555"]]
    fitted = fit_table(cols, rows, 46)
    assert fitted.dropped == ["minor"]
    fitted = fit_table(cols, rows, 34)
    assert fitted.dropped == ["important", "minor"]  # in column order
    fitted = fit_table(cols, rows, 10)  # too narrow for even what must stay: nothing essential is dropped
    assert fitted.dropped == ["important", "minor"]  # in column order
    assert all(c.keep == ALWAYS for c in cols if c.header not in fitted.dropped)


def test_short_headers_when_narrow_and_markup_cells_measured_as_text() -> None:
    cols = [Col("problem"), Col("mean single submission score", short="mean", numeric=True)]
    rows = [["p", "[green]12.5[/green]"]]
    wide, _ = _render(cols, rows, 80)
    assert "mean single submission score" in "\n".join(wide)
    narrow, _ = _render(cols, rows, 16)
    assert max(len(x) for x in narrow) <= 16
    assert "mean" in narrow[0] and "single" not in "\n".join(narrow)
    assert natural_width(cols, rows) == len("problem") + len("mean single submission score") + 3
