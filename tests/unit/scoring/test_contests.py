"""The bundled contest data (``ioi_eval/data/contests.json``): it loads, every entry names its public sources, dates
and cutoffs are consistent, and a contest whose cutoffs are not known yet awards no medal (never a made-up one)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ioi_eval.errors import IoiEvalError
from ioi_eval.scoring.medals import MEDALS, Contest, award, contests, medal_line


def test_bundled_contests_load_and_name_their_sources() -> None:
    data = contests()
    assert {"ioi2024", "ioi2025"} <= set(data)
    for cid, raw in data.items():
        c = Contest.model_validate(raw)
        assert c.sources, f"{cid}: no public source named"
        assert all(url.startswith("https://") for url in c.sources), cid
        assert all(why.strip() for why in c.sources.values()), cid
        assert len(set(c.problems)) == len(c.problems) == 6, cid
        assert c.max_score == 600
        if "start" in c.dates and "end" in c.dates:
            assert c.dates["start"] <= c.dates["end"], cid
        if c.cutoffs is not None:
            values = [c.cutoffs[m] for m in MEDALS]
            assert values == sorted(values, reverse=True) and values[0] <= c.max_score, cid
        else:
            assert c.note, f"{cid}: unknown cutoffs must say why"


def test_ioi2025_entry() -> None:
    c = Contest.model_validate(contests()["ioi2025"])
    assert c.location == "Sucre, Bolivia"
    assert c.problems == ["souvenirs", "triples", "worldmap", "festival", "migrations", "obstacles"]
    assert c.dates == {"end": date(2025, 8, 3)}
    # its medal cutoffs are not in the data yet: no medal, and the line says why
    assert c.cutoffs is None
    assert award(set(c.problems), 600) is None
    assert medal_line({"festival", "triples"}, 500) == "IOI 2025: medal cutoffs not known yet"
    # IOI 2024 still awards as before
    assert award({"nile", "tree"}, 359.71).medal == "gold"


@pytest.mark.parametrize(("entry", "message"), [
    ({"cutoffs": {"gold": 100, "silver": 200, "bronze": 50}}, "ordered"),
    ({"cutoffs": {"gold": 700, "silver": 200, "bronze": 50}}, "exceeds max_score"),
    ({"dates": {"start": "2025-08-03", "end": "2025-07-27"}}, "start is after end"),
    ({"dates": {"day1": "2025-07-30"}}, "dates may hold start and end"),
    ({"sources": {"ioi2025.bo": "no scheme"}}, "sources must be URLs"),
])
def test_inconsistent_contests_are_refused(tmp_path: Path, entry: dict, message: str) -> None:
    base = {"name": "X", "problems": ["a"], "max_score": 600, "cutoffs": {"gold": 300, "silver": 200, "bronze": 100}}
    path = tmp_path / "contests.json"
    path.write_text(json.dumps({"x": {**base, **entry}}))
    with pytest.raises(IoiEvalError, match=message):
        contests(path)
