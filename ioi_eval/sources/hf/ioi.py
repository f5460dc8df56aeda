"""``open-r1/ioi`` (one row per problem and subtask) joined with ``open-r1/ioi-test-cases``, written as
CMS-layout packages.

A problem's rows share its statement, limits and ``grader_files`` ([path, content] pairs:
``graders/grader.cpp``, ``graders/<id>.h``, ``graders/manager.cpp``, ``checker/checker.cpp``,
``graders/grader_config.json`` …); each row adds one subtask (``subtask``, ``score``,
``test_names``). Tests come from the test-cases dataset (config = year) by ``problem_id`` and
``test_name``, with the secret lines the shipped graders and checkers expect, so the package is
judged exactly like the official one.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from ...errors import PackageError, SourceError
from ...judge.task_types import Batch
from ...problem import limits
from ...problem.writer import check_code, safe_relative, write_file, write_json
from .spec import HfSpec, option_ints, option_list
from .tables import Table, is_local_ref, open_hub, open_local

MAIN_COLUMNS = ["year", "name", "id", "day", "subtask", "statement", "score", "time_limit", "memory_limit",
                "score_precision", "task_type", "test_names", "starting_code", "grader_files", "problem"]
TEST_COLUMNS = ["year", "problem_id", "problem_name", "test_name", "test_input", "test_output"]
TESTS_HUB = "open-r1/ioi-test-cases"
TESTS_SIBLING = "ioi-test-cases"


def _task_params(files: dict[str, str], where: str) -> dict[str, Any]:
    """Task type parameters from ``graders/grader_config.json`` (an object, a JSON string, or flat keys)."""
    raw = files.get("graders/grader_config.json")
    if not raw:
        return {}
    try:
        cfg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SourceError(f"{where}: graders/grader_config.json is not valid JSON ({exc})") from None
    if not isinstance(cfg, dict):
        return {}
    params = cfg.get("task_type_params")
    if isinstance(params, str):
        params = json.loads(params) if params.strip() else {}
    if not isinstance(params, dict):  # flat keys, as the Piston run script greps them
        params = {k: v for k, v in cfg.items() if k.startswith("task_type_parameters_")}
    return params


def _year(value: Any, where: str) -> int:
    """A row's ``year`` as an integer (0 when absent), or a clear error naming the bad value."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        raise SourceError(f"{where}: bad year {value!r}") from None


def _subtask_file(name: str, index: int) -> str:
    """``subtasks/<name>.json``, prefixed with the index when the name does not sort in order."""
    return name if re.match(r"\d+", name) else f"{index:02d}-{name}"


class IoiMaterialiser:
    """Writes the problems of an open-r1 IOI split as packages."""

    def __init__(self, spec: HfSpec, table: Table) -> None:
        self.spec = spec
        self.table = table
        self.years = option_ints(spec.options, "year")
        self.ids = set(option_list(spec.options, "ids") or [])
        self._problems: dict[str, list[dict[str, Any]]] | None = None
        self._year_of: dict[str, int] = {}  # problem id -> year, filled by problems()
        self._tests: dict[int, Table] | None = None

    # -- inputs --------------------------------------------------------------------------------
    def problems(self) -> dict[str, list[dict[str, Any]]]:
        """Rows grouped by problem id (one row per subtask), filtered by the ``year``/``ids`` options."""
        if self._problems is None:
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            self._year_of = years = {}
            for row in self.table.rows(MAIN_COLUMNS):
                pid = str(row.get("id") or "")
                year = _year(row.get("year"), f"{self.spec.dataset}: {pid}")
                if (self.years and year not in self.years) or (self.ids and pid not in self.ids):
                    continue
                if years.setdefault(pid, year) != year:
                    raise SourceError(f"{self.spec.dataset}: problem id {pid!r} appears in {years[pid]} and {year}; "
                                      "choose one year with ?year=")
                grouped[pid].append(row)
            if self.ids - set(grouped):
                raise SourceError(f"{self.spec.dataset}: no problems {', '.join(sorted(self.ids - set(grouped)))}")
            self._problems = dict(sorted(grouped.items()))
        return self._problems

    def tests_tables(self) -> dict[int, Table]:
        """The test-cases table of each year present."""
        if self._tests is None:
            years = sorted({self._year_of[pid] for pid in self.problems()})
            self._tests = {y: self._tests_table(y) for y in years}
        return self._tests

    def _tests_table(self, year: int) -> Table:
        ref = self.spec.options.get("tests")
        if ref is None and not self.spec.is_local:
            ref = TESTS_HUB
        if ref is None:
            ref = self._sibling_tests()
        if is_local_ref(ref):
            path = Path(ref).expanduser()
            if (path / str(year)).exists():
                return open_local(path / str(year), None, None, f"{ref}/{year}")
            return open_local(path, None, None, ref)
        return open_hub(ref, str(year), "train", f"{ref}@{year}")

    def _sibling_tests(self) -> str:
        main = Path(self.spec.dataset).expanduser()
        for folder in (main.parent, main) if main.is_dir() else (main.parent,):
            for cand in (folder / TESTS_SIBLING, *(folder / f"{TESTS_SIBLING}{s}" for s in (".parquet", ".jsonl",
                                                                                               ".json"))):
                if cand.exists():
                    return str(cand)
        raise SourceError(f"{self.spec.dataset}: no test cases found: give them with ?tests=<path or hub id> "
                          f"(or put an '{TESTS_SIBLING}' folder or file beside the dataset)")

    def key_parts(self) -> dict[str, Any]:
        """Everything the packages depend on."""
        return {"main": self.table.fingerprint, "spec": [self.spec.dataset, self.spec.config, self.spec.split],
                "options": self.spec.options,
                "tests": {y: t.fingerprint for y, t in self.tests_tables().items()}}

    # -- output --------------------------------------------------------------------------------
    def write(self, root: Path) -> list[str]:
        """Write every package under ``root``; returns the problem codes (folder names)."""
        wanted: dict[tuple[int, str], set[str]] = {}
        for pid, rows in self.problems().items():
            try:
                self._write_problem(root / check_code(pid, self.spec.dataset), pid, rows)
            except (KeyError, TypeError, ValueError, IndexError, PackageError) as exc:
                raise SourceError(f"{self.spec.dataset}: problem {pid}: malformed row ({type(exc).__name__}: "
                                  f"{exc})") from None
            wanted[(self._year_of[pid], pid)] = {t for r in rows for t in (r.get("test_names") or [])}
        names = {str(r[0].get("name")): pid for pid, r in self.problems().items()}
        found: dict[str, set[str]] = defaultdict(set)
        for year, table in self.tests_tables().items():
            for row in table.rows(TEST_COLUMNS):
                if row.get("year") not in (None, "") and _year(row["year"], table.name) != year:
                    continue
                pid = str(row.get("problem_id") or names.get(str(row.get("problem_name")), ""))
                name = str(row.get("test_name") or "")
                if name in wanted.get((year, pid), ()):
                    safe_relative(f"tests/{name}.in", f"{pid} test")
                    write_file(root / pid, f"tests/{name}.in", row.get("test_input"))
                    write_file(root / pid, f"tests/{name}.out", row.get("test_output"))
                    found[pid].add(name)
        for (_, pid), names_needed in wanted.items():
            missing = names_needed - found[pid]
            if missing:
                raise SourceError(f"{pid}: {len(missing)} test(s) missing from the test cases "
                                  f"(e.g. {', '.join(sorted(missing)[:5])})")
        return list(self.problems())

    def _write_problem(self, folder: Path, pid: str, rows: list[dict[str, Any]]) -> None:
        first = rows[0]
        where = f"{self.spec.dataset}: {pid}"
        files: dict[str, str] = {}
        for entry in first.get("grader_files") or []:
            path, content = (entry.get("path") or entry.get("name"), entry.get("content")) \
                if isinstance(entry, dict) else (entry[0], entry[1])
            rel = safe_relative(str(path), where)
            if len(rel.parts) == 1:  # a bare file name belongs to graders/
                rel = "graders" / rel
            files[rel.as_posix()] = content or ""
        for rel, content in files.items():
            if content:  # open-r1 sends only the non-empty files
                write_file(folder, rel, content)
        task_type = str(first.get("task_type") or Batch.name)
        problem = {
            "protocol_version": 1, "code": pid, "name": str(first.get("name") or pid),
            "time_limit": limits.time_limit(first.get("time_limit"), where),
            "memory_limit": limits.memory_limit(first.get("memory_limit"), where),
            "score_precision": limits.score_precision(first.get("score_precision") or 2, where),
            "task_type": task_type,
            "task_type_params": _task_params(files, where),
            "source": {"dataset": self.spec.dataset, "config": self.spec.config, "split": self.spec.split,
                       "year": first.get("year"), "day": first.get("day")},
        }
        write_json(folder, "problem.json", problem)
        if first.get("statement"):
            write_file(folder, "statement.md", first["statement"])
        if first.get("starting_code"):
            write_file(folder, f"attachments/{pid}.cpp", first["starting_code"])
        for i, row in enumerate(sorted(rows, key=lambda r: str(r.get("subtask")))):
            name = _subtask_file(str(row.get("subtask") or f"subtask{i}"), i)
            safe_relative(f"subtasks/{name}.json", where)
            write_json(folder, f"subtasks/{name}.json",
                       {"score": row.get("score") or 0, "testcases": list(row.get("test_names") or [])})
            if row.get("problem"):  # open-r1's prompt for this subtask (ours: kept for reference)
                write_file(folder, f"prompts/{name}.md", row["problem"])
