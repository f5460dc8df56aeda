"""Results that carry how they were made: ``summary.json``, ``run --json`` and ``leaderboard.json`` hold one
:class:`~ioi_eval.record.metadata.RunMetadata`, through the real CLI on the bundled problems (a replayed model, and
the openai engine against a real HTTP server on 127.0.0.1 for the credentials)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

import ioi_eval
from ioi_eval.record.metadata import RunMetadata
from tests.conftest import PROBLEMS
from tests.fixtures.fake_openai_server import FakeServer, code_reply, serve
from tests.fixtures.leaderboard_runs import MODELS, write_replay

RAINFALL_OK = (PROBLEMS / "rainfall" / "solutions" / "model_solution" / "rainfall.cpp").read_text()


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200", **(env or {})})


def _replay_run(tmp: Path, problems: Path, run_dir: str, *extra: str) -> subprocess.CompletedProcess:
    src = tmp / "strong.jsonl"
    if not src.exists():
        write_replay(src, MODELS["strong-model"])
    return cli("run", "--model", str(src), "--engine", "replay", "--problems", str(problems), "--only", "rainfall",
               "--only", "pairsum", "--samples", "3", "--temperature", "0.25", "--top-p", "0.9", "--max-tokens", "777",
               "--seed", "5", "--run-dir", run_dir, "--json", *extra, cwd=tmp)


def _ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_summary_and_json_carry_the_metadata(tmp_path: Path) -> None:
    res = _replay_run(tmp_path, PROBLEMS, "run1")
    assert res.returncode == 0, res.stderr
    printed = json.loads(res.stdout)
    summary = json.loads((tmp_path / "run1" / "summary.json").read_text())
    assert printed == summary  # run --json prints the summary, metadata included
    meta = summary["metadata"]
    RunMetadata.model_validate(meta)
    assert meta["ioi_eval_version"] == ioi_eval.__version__
    started, finished = _ts(meta["started_at"]), _ts(meta["finished_at"])
    assert started <= finished and started.tzinfo is not None
    src = tmp_path / "strong.jsonl"
    assert meta["engine"] == "replay"
    assert meta["model"] == {"name": str(src), "id": str(src), "path": str(src.resolve()),
                             "revision": "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()}
    assert meta["sampling"] == {"temperature": 0.25, "top_p": 0.9, "max_tokens": 777, "seed": 5, "stop": []}
    assert (meta["samples"], meta["per"], meta["language"], meta["max_submissions"]) == (3, "subtask", "cpp", 50)
    prompt = meta["prompt"]
    assert prompt["templates"] == ["ioi_cpp.j2"] and len(prompt["template_sha256"]) == 64
    assert len(prompt["prompts_sha256"]) == 64
    pset = meta["problem_set"]
    assert pset["spec"] == str(PROBLEMS.resolve()) and pset["name"] == PROBLEMS.name
    assert pset["codes"] == ["pairsum", "rainfall"] and set(pset["packages"]) == {"pairsum", "rainfall"}
    assert len(pset["content_sha256"]) == 64
    judge = meta["judge"]
    assert judge["profile"] == "cms" and judge["backend"] == "local" and judge["isolation"]
    assert "cpp" in judge["toolchains"] and "g++" in judge["toolchains"]["cpp"]
    # every metric with an interval carries it
    assert summary["mean_single_total_ci"]["low"] <= summary["mean_single_total"] <= summary["mean_single_total_ci"][
        "high"]
    for p in summary["problems"]:
        ci = p["mean_single_ci"]
        assert ci["low"] <= p["mean_single"] == ci["mean"] <= ci["high"] and ci["confidence"] == 0.95
        assert ci["n"] == {"rainfall": 12, "pairsum": 9}[p["problem"]]
    # the store keeps it, for the leaderboard
    with sqlite3.connect(tmp_path / "run1" / "run.sqlite") as db:
        stored = json.loads(db.execute("SELECT value FROM meta WHERE key='metadata'").fetchone()[0])
    assert stored == meta

    # resuming keeps the first start, moves the end; the leaderboard carries the same metadata
    again = _replay_run(tmp_path, PROBLEMS, "run1")
    assert again.returncode == 0, again.stderr
    meta2 = json.loads(again.stdout)["metadata"]
    assert meta2["started_at"] == meta["started_at"] and _ts(meta2["finished_at"]) >= finished
    assert {k: v for k, v in meta2.items() if k != "finished_at"} == {k: v for k, v in meta.items()
                                                                        if k != "finished_at"}
    res = cli("leaderboard", "run1", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    board = json.loads(res.stdout)
    assert board["ioi_eval_version"] == ioi_eval.__version__ and _ts(board["generated_at"]) >= started
    assert board["entries"][0]["metadata"] == meta2
    assert [s["content_sha256"] for s in board["problem_sets"]] == [pset["content_sha256"]]
    assert board["entries"][0]["mean_single_ci"] == summary["mean_single_total_ci"]


def test_the_problem_set_digest_follows_the_content(tmp_path: Path) -> None:
    """The same problems, one test changed: another digest (and the leaderboard says which problem differs)."""
    copy = tmp_path / "problems"
    for code in ("rainfall", "pairsum"):
        shutil.copytree(PROBLEMS / code, copy / code)
    first = _replay_run(tmp_path, copy, "a")
    assert first.returncode == 0, first.stderr
    test = sorted((copy / "pairsum" / "tests").iterdir())[-1]
    test.write_bytes(test.read_bytes() + b"\n")
    second = _replay_run(tmp_path, copy, "b")
    assert second.returncode == 0, second.stderr
    a, b = (json.loads(r.stdout)["metadata"]["problem_set"] for r in (first, second))
    assert a["content_sha256"] != b["content_sha256"]
    assert a["packages"]["rainfall"] == b["packages"]["rainfall"] and a["packages"]["pairsum"] != b["packages"][
        "pairsum"]
    res = cli("leaderboard", "a", "b", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    notes = json.loads(res.stdout)["notes"]
    assert any("different versions" in n and "pairsum" in n and "rainfall" not in n for n in notes), notes


_solve = code_reply(RAINFALL_OK)


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with serve() as s:
        s.script = _solve
        s.models = ["Qwen/Qwen3-8B"]
        yield s


def test_credentials_stay_out_of_every_output(tmp_path: Path, server: FakeServer) -> None:
    res = cli("run", "--model", "Qwen/Qwen3-8B", "--engine", "openai", "--base-url", server.url, "--problems",
              str(PROBLEMS), "--only", "rainfall", "--samples", "1", "--per", "problem", "--run-dir", "r",
              "--model-args", 'headers={"Authorization":"Bearer hdr-secret","X-Team":"t"},extra_body={"x":1}',
              "--json", cwd=tmp_path, env={"OPENAI_API_KEY": "sk-secret"})
    assert res.returncode == 0, res.stderr
    assert all(s.headers["authorization"] == "Bearer hdr-secret" for s in server.seen)  # it was used
    meta = json.loads(res.stdout)["metadata"]
    assert meta["engine"] == "openai" and meta["model"]["id"] == "Qwen/Qwen3-8B" and meta["model"]["path"] is None
    options = meta["engine_options"]
    assert "api_key" not in options and options["headers"] == {"Authorization": "***", "X-Team": "***"}
    assert options["base_url"] == server.url and options["extra_body"] == {"x": 1}
    board = cli("leaderboard", "r", "--format", "json", "--html", "site", cwd=tmp_path)
    assert board.returncode == 0, board.stderr
    outputs = [res.stdout, board.stdout, (tmp_path / "r" / "summary.json").read_text(),
               *(p.read_text() for p in (tmp_path / "site").rglob("*.*"))]
    with sqlite3.connect(tmp_path / "r" / "run.sqlite") as db:
        outputs += [v for (v,) in db.execute("SELECT value FROM meta")]
    for text in outputs:
        assert "sk-secret" not in text and "hdr-secret" not in text


def test_a_run_from_before_metadata_is_described_by_its_config(tmp_path: Path) -> None:
    """An older run (no stored metadata): the leaderboard gives what its config says, the rest unknown."""
    res = _replay_run(tmp_path, PROBLEMS, "old")
    assert res.returncode == 0, res.stderr
    with sqlite3.connect(tmp_path / "old" / "run.sqlite") as db:
        db.execute("DELETE FROM meta WHERE key IN ('metadata', 'started_at', 'problem_cards')")
    res = cli("leaderboard", "old", "--format", "json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    meta = json.loads(res.stdout)["entries"][0]["metadata"]
    assert meta["ioi_eval_version"] is None and meta["started_at"] is None
    assert meta["sampling"]["max_tokens"] == 777 and meta["engine"] == "replay"
    assert meta["problem_set"]["codes"] == ["pairsum", "rainfall"] and meta["problem_set"]["content_sha256"] is None
    assert json.loads(res.stdout)["problems"][1]["task_type"] == "Batch"  # cards from the packages still here
