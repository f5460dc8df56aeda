"""Tiny datasets in open-r1's real formats (``open-r1/ioi``, ``open-r1/ioi-test-cases``,
``open-r1/codeforces`` and its ``generated_tests/*.parquet``), built on the fly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

SECRET_IN = "in-secret-42"
SECRET_OUT = "out-secret-42"

# A function task with a grader that reads a secret line, as the IOI 2024 graders do.
SUMAB_H = "long long sum_ab(long long a, long long b);\n"
SUMAB_GRADER = f"""#include "sumab.h"
#include <cstdio>
#include <cstring>
int main() {{
  char secret[64];
  if (scanf("%63s", secret) != 1 || strcmp(secret, "{SECRET_IN}") != 0) {{ puts("SV"); return 0; }}
  long long a, b;
  if (scanf("%lld %lld", &a, &b) != 2) return 1;
  printf("{SECRET_OUT}\\nOK\\n%lld\\n", sum_ab(a, b));
}}
"""
SUMAB_OK = '#include "sumab.h"\nlong long sum_ab(long long a, long long b) { return a + b; }\n'
SUMAB_INT = '#include "sumab.h"\nlong long sum_ab(long long a, long long b) { return (int)a + (int)b; }\n'
SUMAB_TESTS = {"0-01": (1, 2), "1-01": (5, 6), "1-02": (0, 0), "2-01": (2_000_000_000, 2_000_000_000)}
SUMAB_SUBTASKS = {"00-samples": (0, ["0-01"]), "01-small": (40, ["0-01", "1-01", "1-02"]),
                  "02-full": (60, ["0-01", "1-01", "1-02", "2-01"])}


def ioi_rows(config: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """``open-r1/ioi`` rows (one per subtask) of the ``sumab`` task."""
    cfg = config or {"code": "sumab", "name": "Sum AB", "time_limit": 1.0, "memory_limit": 268435456,
                     "task_type": "Batch", "task_type_params": {}}
    grader_files = [["graders/grader.cpp", SUMAB_GRADER], ["graders/sumab.h", SUMAB_H],
                    ["graders/grader_config.json", json.dumps(cfg)]]
    return [{"year": 2024, "name": "Sum AB", "id": "sumab", "day": "day1", "subtask": name,
             "statement": "# Sum AB\n\nImplement `sum_ab`.", "score": score, "time_limit": 1.0,
             "memory_limit": 268435456, "score_precision": 2, "task_type": "Batch", "test_names": tests,
             "starting_code": "long long sum_ab(long long a, long long b) {\n  return 0;\n}\n",
             "grader_files": grader_files, "problem": f"Solve subtask {name} of Sum AB."}
            for name, (score, tests) in SUMAB_SUBTASKS.items()]


def ioi_test_rows() -> list[dict[str, Any]]:
    """``open-r1/ioi-test-cases`` rows of the ``sumab`` task (secret lines included)."""
    return [{"year": 2024, "day": "day1", "problem_name": "Sum AB", "problem_id": "sumab", "test_name": name,
             "test_input": f"{SECRET_IN}\n{a} {b}\n", "test_output": f"{SECRET_OUT}\nOK\n{a + b}\n"}
            for name, (a, b) in SUMAB_TESTS.items()]


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    """Rows as a Parquet file (pyarrow infers the nested types, as the Hub's files have them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def save_ioi_dataset(root: Path, rows: list[dict[str, Any]] | None = None,
                     tests: list[dict[str, Any]] | None = None) -> Path:
    """``open-r1/ioi`` saved with ``DatasetDict.save_to_disk`` and its test cases beside it as
    ``ioi-test-cases/2024/*.parquet``; returns the dataset folder."""
    import datasets

    folder = root / "ioi"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows or ioi_rows())}).save_to_disk(str(folder))
    write_parquet(root / "ioi-test-cases" / "2024" / "train-00000-of-00001.parquet", tests or ioi_test_rows())
    return folder


# -- Codeforces ------------------------------------------------------------------------------
CHECKER_SUM = """import sys
inp, ans, out = (open(p).read().split() for p in sys.argv[1:4])
try:
    ok = int(out[0]) == int(inp[0]) + int(inp[1]) and len(out) == 1
except (ValueError, IndexError):
    ok = False
print(1 if ok else 0)
"""


def cf_rows() -> list[dict[str, Any]]:
    """``open-r1/codeforces`` rows: a stdio problem with a generated checker, a file-mode problem
    without one, and an interactive problem (which cannot be judged from the data)."""
    base = {"contest_name": "Test Round", "contest_type": "CF", "contest_start": 0, "contest_start_year": 2024,
            "aliases": [], "rating": 800, "tags": ["math"], "editorial": None, "official_tests_complete": True,
            "interaction_format": None, "generated_checker": None, "note": None}
    return [
        {**base, "id": "1/A", "contest_id": 1, "index": "A", "title": "Sum", "time_limit": 1.0, "memory_limit": 256.0,
         "description": "Print a+b.", "input_format": "Two integers.", "output_format": "Their sum.",
         "examples": [{"input": "1 2\n", "output": "3\n"}], "testset_size": 3,
         "official_tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "10 -3\n", "output": "7\n"}],
         "input_mode": "stdio", "generated_checker": CHECKER_SUM},
        {**base, "id": "1/B", "contest_id": 1, "index": "B", "title": "Parity", "time_limit": 2.0,
         "memory_limit": 64.0, "description": "Say YES if n is even.", "input_format": "n", "output_format": "YES/NO",
         "examples": [{"input": "2\n", "output": "YES\n"}], "testset_size": 2,
         "official_tests": [{"input": "2\n", "output": "YES\n"}, {"input": "3\n", "output": "NO\n"}],
         "input_mode": "file"},
        {**base, "id": "1/C", "contest_id": 1, "index": "C", "title": "Guess", "time_limit": 1.0, "memory_limit": 256.0,
         "description": "Interactive.", "input_format": "", "output_format": "", "examples": [], "testset_size": 0,
         "official_tests": [], "input_mode": "stdio", "interaction_format": "Ask queries."},
    ]


def cf_generated_rows() -> list[dict[str, Any]]:
    """``generated_tests/test_cases_0001.parquet`` rows."""
    return [{"problem_id": "1/A", "input": "100 200\n", "output": "300\n"},
            {"problem_id": "1/A", "input": "-5 5\n", "output": "0\n"},
            {"problem_id": "1/B", "input": "10\n", "output": "YES\n"}]


def save_cf_dataset(root: Path) -> Path:
    """A Hub-snapshot-like folder: ``verifiable/test-*.parquet`` and ``generated_tests/``; returns the
    path of the problems file."""
    main = write_parquet(root / "codeforces" / "verifiable" / "test-00000-of-00001.parquet", cf_rows())
    write_parquet(root / "codeforces" / "generated_tests" / "test_cases_0001.parquet", cf_generated_rows())
    return main
