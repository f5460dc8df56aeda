"""``ioi-eval export cots``: codeforces-cots fields and types, our judge fields, filters, decontamination,
Parquet, the Hub push at its boundary, and the round trip export -> load_from_disk -> replay run -> same scores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ioi_eval.cli.export import export_cots
from ioi_eval.errors import IoiEvalError
from ioi_eval.export import dataset as export_dataset
from ioi_eval.export.cots import Filters, read_id_list
from ioi_eval.generate.reasoning import join_reasoning, unjoin_reasoning
from ioi_eval.generate.replay import ReplayEngine
from tests.conftest import PROBLEMS

from .test_run import RAINFALL_OK, RAINFALL_OVERFLOW, _fence, cli, db_rows

datasets = pytest.importorskip("datasets")
pq = pytest.importorskip("pyarrow.parquet")

#: codeforces-cots (``solutions`` config) fields, in its order.
COTS_FIELDS = ["id", "aliases", "contest_id", "contest_name", "contest_type", "contest_start", "contest_start_year",
               "index", "time_limit", "memory_limit", "title", "description", "input_format", "output_format",
               "interaction_format", "note", "editorial", "examples", "prompt", "generation", "finish_reason",
               "api_metadata", "messages"]

ROWS = [
    {"key": "rainfall/01-small/0", "text": "<think>\nlet me think\n</think>\n" + _fence(RAINFALL_OVERFLOW),
     "finish_reason": "stop", "prompt_tokens": 900, "completion_tokens": 300},
    {"key": "rainfall/01-small/1", "text": "I could not solve it.", "finish_reason": "stop"},
    {"key": "rainfall/02-medium/0", "reasoning": "  spaced reasoning \n", "text": " " + _fence(RAINFALL_OK) + "\n\n",
     "prompt_tokens": 900, "completion_tokens": 800},
    {"key": "rainfall/02-medium/1", "text": _fence(RAINFALL_OK)},
    {"key": "rainfall/03-small-values/0", "text": _fence(RAINFALL_OK), "finish_reason": "length",
     "prompt_tokens": 900, "completion_tokens": 5000},
    # rainfall/03-small-values/1 is missing: a failed generation, not exported, failed again on replay
    {"key": "rainfall/04-full/0", "text": _fence(RAINFALL_OK, "c++"), "seed": 7},
    {"key": "rainfall/04-full/1", "text": _fence(RAINFALL_OVERFLOW)},
]


def _run(tmp: Path, source: Path | str, name: str) -> dict:
    res = cli("run", "--model", str(source), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--samples", "2", "--run-dir", str(tmp / name), "--json", cwd=tmp)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def replay_run(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("export")
    src = tmp / "completions.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return tmp / "run", _run(tmp, src, "run")


def _export(tmp: Path, run: Path, out: str, *args: str, env: dict | None = None):
    return cli("export", "cots", str(run), "--out", str(tmp / out), *args, cwd=tmp, env=env)


def test_export_fields_types_and_round_trip(tmp_path: Path, replay_run) -> None:
    run, original = replay_run
    res = _export(tmp_path, run, "ds")
    assert res.returncode == 0, res.stderr
    assert "exported 7 row(s)" in res.stdout and "generation failed: 1" in res.stdout
    ds = datasets.load_from_disk(str(tmp_path / "ds"))
    assert list(ds.features)[: len(COTS_FIELDS)] == COTS_FIELDS and len(ds) == 7
    f = ds.features
    assert f["memory_limit"].dtype == "int64" and f["time_limit"].dtype == "float64"
    assert f["api_metadata"]["prompt_tokens_details"].dtype == "null"
    rows = {r["key"]: r for r in ds}

    first = rows["rainfall/01-small/0"]
    assert first["id"] == "rainfall" and first["index"] == "rainfall" and first["title"] == "Rainfall Log"
    assert first["time_limit"] == 1.0 and first["memory_limit"] == 256 and first["description"].strip()
    assert first["examples"] and first["examples"][0]["input"]
    assert first["generation"] == "<think>\nlet me think\n</think>\n" + first["answer"]
    assert first["api_metadata"] == {"completion_tokens": 300, "prompt_tokens": 900, "prompt_tokens_details": None,
                                     "total_tokens": 1200}
    msgs = first["messages"]
    assert msgs[-1] == {"role": "assistant", "content": first["generation"]}
    assert msgs[-2]["role"] == "user" and msgs[-2]["content"] == first["prompt"] and "Rainfall" in first["prompt"]
    assert first["language"] == "cpp" and first["code"].strip() == RAINFALL_OVERFLOW.strip()
    assert first["verified"] is False and first["score"] < 100 and first["compiled"]
    assert "WA" in first["verdict_summary"] and first["subtask_results"][1]["name"] == "01-small"
    assert len(first["test_results"]) >= 1 and first["test_results"][0]["verdict"] in ("AC", "WA", "SKIPPED")

    assert rows["rainfall/01-small/1"]["code"] is None and rows["rainfall/01-small/1"]["extraction"] == "no_code"
    assert rows["rainfall/01-small/1"]["score"] == 0 and rows["rainfall/01-small/1"]["verdict_summary"] == "no code"
    ok = rows["rainfall/04-full/0"]
    assert ok["verified"] and ok["score"] == ok["max_score"] == 100 and ok["seed"] == 7
    assert set(ok["verdict_summary"].split(", ")) == {f"AC {len(ok['test_results'])}"}
    assert rows["rainfall/03-small-values/0"]["finish_reason"] == "length"
    assert "rainfall/03-small-values/1" not in rows

    table = pq.read_table(tmp_path / "ds" / "parquet" / "train-00000-of-00001.parquet")
    assert table.num_rows == 7 and table.column_names == list(ds.features)
    assert str(table.schema.field("api_metadata").type.field("prompt_tokens_details").type) == "null"
    card = (tmp_path / "ds" / "README.md").read_text()
    assert "Rows: 7 (4 verified" in card and "generation failed: 1" in card and "`verified`" in card

    # the round trip: the saved folder, and the Parquet file, replay to the very same scores
    assert _run(tmp_path, tmp_path / "ds", "again")["problems"] == original["problems"]
    assert _run(tmp_path, tmp_path / "ds" / "parquet", "again-pq")["problems"] == original["problems"]
    sql = ("SELECT key, status, text, reasoning, finish_reason, prompt_tokens, completion_tokens, seed FROM generations"
           " ORDER BY key")
    assert db_rows(tmp_path / "again", sql) == db_rows(tmp_path / "again-pq", sql) == db_rows(run, sql)


def test_export_filters(tmp_path: Path, replay_run) -> None:
    run, _ = replay_run
    res = _export(tmp_path, run, "verified", "--verified-only")
    assert res.returncode == 0, res.stderr
    ds = datasets.load_from_disk(str(tmp_path / "verified"))
    assert len(ds) == 4 and all(ds["verified"]) and all(c for c in ds["code"])
    assert "not verified: 3" in res.stdout
    res = _export(tmp_path, run, "capped", "--max-tokens", "1000", "--min-score", "10")
    assert res.returncode == 0, res.stderr
    keys = set(datasets.load_from_disk(str(tmp_path / "capped"))["key"])
    assert "rainfall/03-small-values/0" not in keys and "rainfall/01-small/1" not in keys
    assert "rainfall/02-medium/0" in keys and "over --max-tokens: 1" in res.stdout
    res = _export(tmp_path, run, "short", "--max-chars", "60")
    assert res.returncode == 0 and set(datasets.load_from_disk(str(tmp_path / "short"))["key"]) == {
        "rainfall/01-small/1"}

    ids = tmp_path / "ids.txt"
    ids.write_text("# IOI problems seen in training\nIOI2024_Rainfall\n")
    res = _export(tmp_path, run, "clean", "--decontaminate", str(ids))
    assert res.returncode == 2 and "nothing to export" in res.stderr and "decontaminated: 7" in res.stderr
    assert not (tmp_path / "clean").exists()

    again = _export(tmp_path, run, "verified")
    assert again.returncode == 2 and "--force" in again.stderr
    assert _export(tmp_path, run, "verified", "--force").returncode == 0
    assert len(datasets.load_from_disk(str(tmp_path / "verified"))) == 7
    twice = cli("export", "cots", str(run), str(run), "--out", str(tmp_path / "twice"), cwd=tmp_path)
    assert twice.returncode == 0 and len(datasets.load_from_disk(str(tmp_path / "twice"))) == 14
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    refused = _export(tmp_path, run, "mine", "--force")
    assert refused.returncode == 2 and (tmp_path / "mine" / "notes.txt").is_file()


def test_filter_units(tmp_path: Path) -> None:
    rows = [{"id": "ioi2024/nile", "problem": "nile", "aliases": ["nile"], "title": "Nile", "verified": True,
             "score": 100.0, "generation": "x" * 10, "api_metadata": {"completion_tokens": None}},
            {"id": "pairsum", "problem": "pairsum", "aliases": [], "title": "Pair Sum", "verified": False,
             "score": 30.0, "generation": "y" * 100, "api_metadata": {"completion_tokens": 50}}]
    ids = tmp_path / "ids.json"
    ids.write_text(json.dumps(["IOI2024_Nile"]))
    kept, dropped = Filters(exclude=read_id_list(ids)).apply(rows)
    assert [r["problem"] for r in kept] == ["pairsum"] and dropped == {"decontaminated": 1}
    assert Filters(max_tokens=10).apply(rows)[0] == rows[:1]  # an unknown token count is kept
    assert Filters(max_chars=50).apply(rows)[0] == rows[:1]
    assert Filters(min_score=50).apply(rows)[0] == rows[:1]
    (tmp_path / "bad.json").write_text('{"ids": 3}')
    with pytest.raises(IoiEvalError, match="JSON list"):
        read_id_list(tmp_path / "bad.json")


def test_join_reasoning_is_exactly_undone() -> None:
    for reasoning, answer in ((None, "a"), ("", "a"), ("  r \n", " \n```cpp\nx\n```\n\n"), ("r", "")):
        gen = join_reasoning(reasoning, answer)
        assert unjoin_reasoning(gen, answer) == (reasoning, answer)
        rec = ReplayEngine(rows=[{"key": "k", "generation": gen, "answer": answer}]).records[0]
        assert (rec.reasoning or None, rec.text) == (reasoning or None, answer)
    assert unjoin_reasoning("<think>r</think>a", "a") is None


def test_push_to_hub_boundary(tmp_path: Path, replay_run, monkeypatch) -> None:
    run, _ = replay_run
    pushed: list[dict] = []

    def fake_push(self, repo_id, **kwargs):
        pushed.append({"repo_id": repo_id, "rows": len(self), **kwargs})
        return type("CommitInfo", (), {"commit_url": f"https://hub.invalid/{repo_id}/commit/1"})()

    monkeypatch.setattr(datasets.Dataset, "push_to_hub", fake_push)
    monkeypatch.setattr(export_dataset, "hub_token", lambda: "hf_test_token")
    export_cots([run], tmp_path / "ds", verified_only=True, push_to_hub="me/ioi-cots", private=True,
                config_name="rainfall")
    assert pushed == [{"repo_id": "me/ioi-cots", "rows": 4, "config_name": "rainfall", "split": "train",
                       "private": True, "token": "hf_test_token", "commit_message": "ioi-eval export cots"}]

    def broken_push(self, repo_id, **kwargs):
        raise ConnectionError("hub unreachable")

    monkeypatch.setattr(datasets.Dataset, "push_to_hub", broken_push)
    with pytest.raises(IoiEvalError, match=r"push to me/ioi-cots failed: ConnectionError.*saved at"):
        export_cots([run], tmp_path / "ds2", push_to_hub="me/ioi-cots")
    assert (tmp_path / "ds2" / "state.json").is_file()  # the local export is kept


def test_push_without_token_is_a_clear_error(tmp_path: Path, replay_run) -> None:
    run, _ = replay_run
    env = {"HF_TOKEN": "", "HUGGING_FACE_HUB_TOKEN": "", "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_OFFLINE": "1"}
    res = cli("export", "cots", str(run), "--out", str(tmp_path / "ds"), "--push-to-hub", "me/x", cwd=tmp_path,
              env=env)
    assert res.returncode == 2 and "needs a token" in res.stderr and "HF_TOKEN" in res.stderr
    assert "Traceback" not in res.stderr and (tmp_path / "ds" / "state.json").is_file()


def test_export_refuses_what_it_cannot_export(tmp_path: Path) -> None:
    res = cli("export", "cots", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert res.returncode == 2 and "not a run folder" in res.stderr
    ref = cli("run", "--model", "reference", "--problems", str(PROBLEMS), "--only", "rainfall", "--run-dir",
              str(tmp_path / "ref"), cwd=tmp_path)
    assert ref.returncode == 0, ref.stderr
    res = cli("export", "cots", str(tmp_path / "ref"), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert res.returncode == 2 and "reference solution (no generation): 1" in res.stderr


@pytest.mark.parametrize("content", [b"this is not sqlite at all" * 100, None])
def test_export_of_a_damaged_run_store_is_a_clear_error(tmp_path: Path, content: bytes | None) -> None:
    import sqlite3

    run = tmp_path / "run"
    run.mkdir()
    if content is None:  # a foreign database: read-only, it is not given our tables
        sqlite3.connect(run / "run.sqlite").execute("CREATE TABLE t(x)").connection.close()
    else:
        (run / "run.sqlite").write_bytes(content)
    res = cli("export", "cots", str(run), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert res.returncode == 2 and "not a readable run store" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr
    if content is None:
        assert sqlite3.connect(run / "run.sqlite").execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
