"""``ioi-eval run --engine replay`` on files in other harnesses' shapes, through the real CLI and judge, on the
bundled rainfall problem: EvalPlus JSONL, LiveCodeBench JSON, open-r1 Parquet, bare code in our own rows; rows
without code are counted on stderr; a file in no known shape is a clear error."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import PROBLEMS
from tests.system.test_run import cli

SOLUTIONS = PROBLEMS / "rainfall" / "solutions"
OK_CPP = (SOLUTIONS / "model_solution" / "rainfall.cpp").read_text()
OVERFLOW_CPP = (SOLUTIONS / "incorrect" / "rainfall_int.cpp").read_text()
OK_PY = (SOLUTIONS / "correct" / "rainfall.py").read_text()


def replay(tmp_path: Path, source: Path, *args: str) -> tuple[dict, str, dict[str, str]]:
    """Run the replay of ``source`` on rainfall; the score of rainfall, stderr, and each key's extraction."""
    run_dir = tmp_path / f"run-{source.stem}"
    res = cli("run", "--model", str(source), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--run-dir", str(run_dir), "--json", *args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    with sqlite3.connect(run_dir / "run.sqlite") as db:
        statuses = dict(db.execute("SELECT key, extraction FROM submissions").fetchall())
    return json.loads(res.stdout)["problems"][0], res.stderr, statuses


def test_evalplus_samples_with_bare_code(tmp_path: Path) -> None:
    """evalplus.codegen writes one ``{task_id, solution}`` line per sample; sanitized solutions are bare code."""
    src = tmp_path / "rainfall_vllm_temp_0.0.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [
        {"task_id": "IOI/rainfall", "solution": OVERFLOW_CPP},
        {"task_id": "IOI/rainfall", "solution": f"Here it is.\n```cpp\n{OK_CPP}```\n"},  # a .raw.jsonl line
        {"task_id": "IOI/rainfall", "solution": "Sorry, I cannot solve this problem."},
    ]))
    p, err, statuses = replay(tmp_path, src, "--per", "problem", "--samples", "3")
    assert p["score"] == 100 and p["no_code"] == 1 and p["failed_generations"] == 0
    assert statuses == {"rainfall/-/0": "ok", "rainfall/-/1": "ok", "rainfall/-/2": "no_code"}
    assert "1 of 3 completions" in err and "row 3 (IOI/rainfall/2: no code in the text)" in err


def test_evalplus_rows_in_a_per_subtask_run_say_to_use_per_problem(tmp_path: Path) -> None:
    src = tmp_path / "samples.jsonl"
    src.write_text(json.dumps({"task_id": "rainfall", "solution": OK_CPP}) + "\n")
    res = cli("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--samples", "1", "--run-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert res.returncode == 2 and "--per problem" in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_livecodebench_code_list_in_python(tmp_path: Path) -> None:
    """lcb_runner's output file: a JSON list of ``{question_id, code_list, output_list, ...}``."""
    src = tmp_path / "codegeneration_2_0.2.json"
    src.write_text(json.dumps([{
        "question_id": "rainfall", "question_title": "Rainfall", "platform": "ioi", "difficulty": "easy",
        "output_list": [f"```python\n{OK_PY}```", "I am not sure how to do this."],
        "code_list": [OK_PY, ""],
    }]))
    p, err, statuses = replay(tmp_path, src, "--per", "problem", "--samples", "2", "--language", "python")
    assert p["score"] == 100 and p["no_code"] == 1
    assert statuses == {"rainfall/-/0": "ok", "rainfall/-/1": "no_code"}
    assert "row 1 (rainfall/1: no code in the text)" in err


def test_open_r1_parquet_per_subtask(tmp_path: Path) -> None:
    """open-r1/ioi-2024-model-solutions rows: ``generation`` (with the reasoning) and the ``code`` taken from it."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    subtasks = ["01-small", "02-medium", "03-small-values", "04-full"]
    rows = [{"year": 2024, "problem_id": "rainfall", "target_subtask": st, "solution_number": 0,
             "generation": f"<think>plan for {st}</think>\n```cpp\n{OVERFLOW_CPP if st != '04-full' else OK_CPP}```",
             "code": OVERFLOW_CPP if st != "04-full" else OK_CPP, "language": "cpp",
             "model_kwargs": {"seed": 7}, "metadata": {"usage": {"prompt_tokens": 10, "completion_tokens": 20},
                                                       "stop_reason": "stop"}, "uuid": f"u-{st}"}
            for st in subtasks]
    rows[2]["generation"], rows[2]["code"] = "<think>ran out of tokens", ""
    src = tmp_path / "train-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(rows), src)
    p, err, statuses = replay(tmp_path, src, "--samples", "1")
    assert p["score"] == 100 and p["no_code"] == 1
    assert statuses["rainfall/03-small-values/0"] == "no_code"
    assert "row 3 (rainfall/03-small-values/0: no answer after the reasoning)" in err


def test_our_rows_with_bare_code(tmp_path: Path) -> None:
    src = tmp_path / "completions.jsonl"
    src.write_text(json.dumps({"key": "rainfall/-/0", "text": OK_CPP, "finish_reason": "stop"}) + "\n")
    p, err, statuses = replay(tmp_path, src, "--per", "problem", "--samples", "1")
    assert p["score"] == 100 and p["no_code"] == 0 and statuses == {"rainfall/-/0": "ok"}
    assert "no code" not in err


def test_a_file_in_no_known_shape_is_a_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "predictions.jsonl"
    src.write_text(json.dumps({"idx": 0, "prediction": OK_CPP}) + "\n")
    res = cli("run", "--model", str(src), "--engine", "replay", "--problems", str(PROBLEMS), "--only", "rainfall",
              "--samples", "1", "--run-dir", str(tmp_path / "r"), cwd=tmp_path)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "predictions.jsonl" in res.stderr and "fields seen: idx, prediction" in res.stderr
    assert not (tmp_path / "r").exists()  # nothing was queued
