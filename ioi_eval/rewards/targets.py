"""What a row of a training set asks to be judged against: a problem (and maybe one subtask) and a language.

A row names its problem in one of the shapes open-r1's datasets have:

- ``problem_id`` or ``id`` (``open-r1/ioi``: the task id, with ``subtask`` naming the subtask; the ``verifiable``
  Codeforces configs: ``1234/A``, the package ``cf1234A`` that ``hf:`` sources write), looked up in the reward's
  problem set; a label ``<id>/<subtask>`` (verl's ground truth, OpenRLHF's labels) names both at once;
- ``verification_info`` (open-r1's generic code rows): ``{"language", "test_cases": [{"input", "output"}]}``,
  written once as a package of its own (keyed by its content, in ``$IOI_EVAL_CACHE/rewards/``) and judged with the
  same strict judge (token-exact comparison: a prefix of the expected output does not pass).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..cache import atomic_dir, cache_root
from ..errors import IoiEvalError, RewardConfigError
from ..judge.languages import LANGUAGES, find_language
from ..problem.model import Problem, Subtask
from ..problem.writer import write_file, write_json
from ..sources.hf.codeforces import problem_code
from ..sources.loader import load_problem

#: bump when the layout of inline packages changes
INLINE_VERSION = 1


@dataclass(frozen=True)
class Target:
    """One thing to judge against: a problem, optionally one of its subtasks, in a language."""

    problem: Problem
    subtask: Subtask | None
    language: str

    @property
    def label(self) -> str:
        """``<code>`` or ``<code>/<subtask>``."""
        return self.problem.code if self.subtask is None else f"{self.problem.code}/{self.subtask.name}"


def find_subtask(problem: Problem, name: str) -> Subtask:
    """A subtask by name: exact, or as open-r1 names it (``samples`` for our ``00-samples``)."""
    for st in problem.subtasks:
        if st.name == name:
            return st
    for st in problem.subtasks:
        head, sep, rest = st.name.partition("-")
        if sep and head.isdigit() and rest == name:
            return st
    raise RewardConfigError(f"problem {problem.code} has no subtask {name!r}; "
                            f"known: {', '.join(s.name for s in problem.subtasks)}")


class InlineProblems:
    """Packages made from open-r1 ``verification_info`` test cases, written once each and kept loaded."""

    def __init__(self, time_limit: float = 2.0, memory_mb: int = 256) -> None:
        self.time_limit = time_limit
        self.memory_mb = memory_mb
        self._loaded: dict[str, Problem] = {}
        self._lock = threading.Lock()

    def problem(self, info: Mapping[str, Any]) -> Problem:
        """The package for these test cases (written on first use)."""
        tests = _test_cases(info)
        blob = json.dumps({"v": INLINE_VERSION, "tests": tests, "tl": self.time_limit, "ml": self.memory_mb},
                          sort_keys=True)
        key = hashlib.sha256(blob.encode()).hexdigest()[:20]
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        dest = cache_root() / "rewards" / f"inline_{key}"
        if not (dest / "problem.json").is_file():
            try:
                with atomic_dir(dest, prefix=".build-") as tmp:
                    self._write(tmp, f"inline_{key}", tests)
            except OSError as exc:
                raise RewardConfigError(f"{dest.parent}: cannot write an inline package: {exc}") from None
        problem = load_problem(dest)
        with self._lock:
            self._loaded[key] = problem
        return problem

    def _write(self, folder, code: str, tests: list[tuple[str, str]]) -> None:
        names = []
        for i, (inp, out) in enumerate(tests, 1):
            name = f"t{i:04d}"
            write_file(folder, f"tests/{name}.in", inp)
            write_file(folder, f"tests/{name}.out", out)
            names.append(name)
        write_json(folder, "problem.json", {
            "protocol_version": 1, "code": code, "name": code, "time_limit": self.time_limit,
            "memory_limit": self.memory_mb << 20, "score_precision": 2, "task_type": "Batch",
            "task_type_params": {}, "scoring": "codeforces", "checker": {"standard": "tokens"}})
        write_json(folder, "subtasks/01-all.json", {"score": 1, "testcases": names})


def _test_cases(info: Mapping[str, Any]) -> list[tuple[str, str]]:
    cases = _decoded(info.get("test_cases"), "verification_info test_cases")
    if not isinstance(cases, list) or not cases:
        raise RewardConfigError("verification_info has no test_cases")
    out = []
    for i, case in enumerate(cases):
        if not isinstance(case, Mapping) or not isinstance(case.get("input"), str) \
                or not isinstance(case.get("output"), str):
            raise RewardConfigError(f"verification_info test case {i} needs string 'input' and 'output'")
        kind = case.get("type", "stdin_stdout")
        if kind not in (None, "stdin_stdout"):
            raise RewardConfigError(f"verification_info test case {i}: type {kind!r} is not supported "
                                    "(only stdin_stdout)")
        out.append((case["input"], case["output"]))
    return out


def _decoded(value: Any, what: str) -> Any:
    """``value``, decoded first when it arrives as a JSON string (open-r1's columns come either way)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise RewardConfigError(f"{what} is not valid JSON ({exc})") from None


def parse_info(value: Any) -> Mapping[str, Any]:
    """``verification_info`` as a mapping (it may arrive as a JSON string)."""
    value = _decoded(value, "verification_info")
    if not isinstance(value, Mapping):
        raise RewardConfigError(f"verification_info must be an object, not {type(value).__name__}")
    return value


class ProblemIndex:
    """Finds the target of a row or label among the reward's problems (and inline test cases)."""

    def __init__(self, problems: list[Problem], default_language: str, inline: InlineProblems) -> None:
        self.by_code = {p.code: p for p in problems}
        self.default_language = default_language
        self.inline = inline

    def problem(self, ident: str) -> Problem | None:
        """A problem by its code, or by an open-r1 Codeforces id (``1234/A`` -> ``cf1234A``)."""
        return self.by_code.get(ident) or self.by_code.get(problem_code({"id": ident}))

    def find(self, ident: str, subtask: str | None = None) -> tuple[Problem, Subtask | None]:
        """The problem named ``ident`` (or ``<id>/<subtask>`` when ``subtask`` is not given)."""
        ident = ident.strip()
        problem = self.problem(ident)
        if problem is None and subtask is None and "/" in ident:
            head, _, tail = ident.rpartition("/")
            problem, subtask = self.problem(head), tail
        if problem is None:
            known = ", ".join(sorted(self.by_code)[:10]) + (" ..." if len(self.by_code) > 10 else "")
            raise RewardConfigError(f"unknown problem {ident!r} (the reward's problems: {known or 'none'})")
        return problem, (find_subtask(problem, subtask) if subtask not in (None, "") else None)

    def language(self, value: Any) -> str:
        """A row's language (a name or alias), else the default."""
        if value in (None, ""):
            return self.default_language
        lang = find_language(str(value))
        if lang is None:
            raise RewardConfigError(f"unknown language {value!r}; known: {', '.join(LANGUAGES)}")
        return lang.name

    def from_row(self, row: Mapping[str, Any]) -> Target:
        """The target a dataset row names (see the module's docstring)."""
        info = row.get("verification_info")
        if info is not None:
            info = parse_info(info)
            try:
                problem = self.inline.problem(info)
            except IoiEvalError:
                raise
            return Target(problem, None, self.language(info.get("language") or row.get("language")))
        ident = row.get("problem_id") if row.get("problem_id") not in (None, "") else row.get("id")
        if ident in (None, ""):
            ident = row.get("label")
        if ident in (None, ""):
            raise RewardConfigError("the row names no problem: give a problem_id or id column (with an optional "
                                    "subtask), or open-r1's verification_info")
        subtask = row.get("subtask")
        problem, st = self.find(str(ident), None if subtask in (None, "") else str(subtask))
        return Target(problem, st, self.language(row.get("language")))

    def from_label(self, label: str, language: Any = None) -> Target:
        """The target of a label: ``<id>``, ``<id>/<subtask>``, or a ``verification_info`` JSON object."""
        text = label.strip()
        if text.startswith("{"):
            return self.from_row({"verification_info": text, "language": language})
        problem, st = self.find(text)
        return Target(problem, st, self.language(language))
