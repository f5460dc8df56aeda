"""Problem sources: spec resolution, ``problems list`` and ``problems export`` for CMS packages."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ioi_eval.cli import app
from ioi_eval.errors import IoiEvalError
from ioi_eval.sources import CmsSource, is_local, resolve_source
from ioi_eval.sources.export import export_source
from ioi_eval.sources.loader import load_problem
from tests.conftest import PROBLEMS

BUNDLED = PROBLEMS


def test_local_path_is_cms_source():
    src = resolve_source(str(BUNDLED))
    assert isinstance(src, CmsSource)
    assert {p.name for p in src.packages()} >= {"rainfall", "towers", "relay"}
    assert is_local(str(BUNDLED))


def test_unknown_scheme_is_a_path(tmp_path):
    with pytest.raises(IoiEvalError, match="nope:thing"):
        resolve_source("nope:thing").packages()


def test_export_round_trip(tmp_path):
    written = export_source(str(BUNDLED / "rainfall"), tmp_path / "out")
    assert written == [tmp_path / "out" / "rainfall"]
    again = load_problem(written[0])
    orig = load_problem(BUNDLED / "rainfall")
    assert again.subtasks == orig.subtasks and set(again.tests) == set(orig.tests)
    with pytest.raises(IoiEvalError, match="already exists"):
        export_source(str(BUNDLED / "rainfall"), tmp_path / "out")
    assert export_source(str(BUNDLED / "rainfall"), tmp_path / "out", force=True) == written


def test_cli_list_and_export(tmp_path):
    res = CliRunner().invoke(app, ["problems", "list", str(BUNDLED)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "rainfall" in res.output and "Communication" in res.output
    res = CliRunner().invoke(app, ["problems", "export", str(BUNDLED / "towers"), "--to", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "towers" / "problem.json").is_file()
