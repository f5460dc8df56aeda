"""Load a problem package in the layout of the official IOI 2024 CMS packages.

A package is a folder holding ``problem.json`` (or a folder with exactly one such sub-folder), or a
``.zip`` of one. Every defect is a :class:`~ioi_eval.errors.PackageError` naming the file. The task
type (``ioi_eval.judge.task_types``) named by ``problem.json`` validates its own ``task_type_params``
and says which files its tests and solutions need.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import archive
from ..cache import atomic_dir, cache_root
from ..errors import PackageError, PackageWarning
from ..judge.score_types import SCORE_TYPES
from ..judge.task_types import TASK_TYPES, TaskType, task_type_names
from ..problem import limits
from ..problem.model import (
    SOLUTION_CATEGORIES,
    CheckerSpec,
    GradingSpec,
    Problem,
    Solution,
    Subtask,
    TestCase,
)

SOURCE_SUFFIXES = {".cpp", ".cc", ".cxx", ".c++", ".py"}


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PackageError(f"{path}: file missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"{path}: not valid JSON ({exc})") from None


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def unzip_package(zip_path: Path) -> Path:
    """Extract a package archive once into a cache folder keyed by its content; returns the folder.

    The archive is checked first (``ioi_eval.archive``: member names, kinds, count and total size
    within the caps), so a defect is a :class:`PackageError` before anything is written.
    """
    try:
        digest = _file_digest(zip_path)
    except OSError as exc:
        raise PackageError(f"{zip_path}: cannot read the archive ({exc.strerror})") from None
    dest = cache_root() / "packages" / f"{zip_path.stem}-{digest}"
    if dest.is_dir():
        return dest
    try:
        # another process may extract it concurrently
        with atomic_dir(dest, prefix=".extract-") as tmp:
            archive.extract(zip_path, tmp, PackageError)
    except OSError as exc:  # a full or read-only cache
        raise PackageError(f"{zip_path}: cannot extract into {dest.parent}: {exc}") from None
    return dest


def find_root(path: Path) -> Path:
    """The folder holding ``problem.json`` for a folder or archive path."""
    path = Path(path)
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder")
    if not path.is_file() and not path.is_dir():
        raise PackageError(f"{path}: a package is a folder or a .zip archive, not a special file")
    if path.is_file():
        if path.suffix.lower() != ".zip":
            raise PackageError(f"{path}: a package is a folder or a .zip archive")
        path = unzip_package(path)
    if (path / "problem.json").is_file():
        return path
    subs = [d for d in path.iterdir() if d.is_dir() and (d / "problem.json").is_file()]
    if len(subs) == 1:
        return subs[0]
    if not subs:
        raise PackageError(f"{path}: no problem.json found (not a problem package)")
    raise PackageError(f"{path}: several packages inside; point at one of: {', '.join(s.name for s in subs)}")


def _task_params(raw: Any, task_type: str, where: Path) -> dict[str, Any]:
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise PackageError(f"{where}: task_type_params is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise PackageError(f"{where}: task_type_params must be an object")
    prefix = f"task_type_parameters_{task_type}_"
    out = {}
    for key, value in raw.items():
        out[key[len(prefix):] if key.startswith(prefix) else key] = value
    return out


def _score_type(name: Any, where: Path) -> str:
    """A score type the judge knows (the score-type registry is the only list of their names)."""
    if not isinstance(name, str) or name not in SCORE_TYPES:
        raise PackageError(f"{where}: unknown score type {name!r} (known: {', '.join(SCORE_TYPES)})")
    return name


def _thresholds(meta: dict[str, Any], where: Path) -> list[float | None]:
    raw = meta.get("score_type_params")
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list):
        raise PackageError(f"{where}: 'score_type_params' must be a list of per-subtask thresholds")
    return [None if t is None else limits.finite_number(t, where, "score_type_params") for t in raw]


def _load_subtasks(root: Path, meta: dict[str, Any]) -> tuple[Subtask, ...]:
    folder = root / "subtasks"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    if not files:
        raise PackageError(f"{folder}: no subtask files (subtasks/NN-name.json)")
    thresholds = _thresholds(meta, root / "problem.json")
    subtasks = []
    for i, f in enumerate(files):
        data = _read_json(f)
        if not isinstance(data, dict) or "score" not in data or "testcases" not in data:
            raise PackageError(f"{f}: a subtask needs 'score' and 'testcases'")
        tests = data["testcases"]
        if not isinstance(tests, list):
            raise PackageError(f"{f}: 'testcases' must be a list of test names")
        for t in tests:
            limits.test_name(t, f)
        points = limits.points(data["score"], f)
        if not tests:
            if points > 0:
                raise PackageError(f"{f}: a subtask worth {points:g} points has no tests ('testcases' is empty)")
            warnings.warn(f"{f}: a subtask with no tests and no points (it is shown, and judges nothing)",
                          PackageWarning, stacklevel=3)
        threshold = thresholds[i] if i < len(thresholds) else None
        own = data.get("score_type")
        try:
            subtasks.append(Subtask(index=i, name=f.stem, points=points, tests=tuple(tests), threshold=threshold,
                                    score_type=None if own is None else _score_type(own, f)))
        except ValidationError as exc:
            raise PackageError(f"{f}: {_first_error(exc)}") from None
    return tuple(subtasks)


def _load_tests(root: Path, subtasks: tuple[Subtask, ...], needs_output: bool) -> dict[str, TestCase]:
    folder = root / "tests"
    tests: dict[str, TestCase] = {}
    for st in subtasks:
        for name in st.tests:
            if name in tests:
                continue
            inp, out = folder / f"{name}.in", folder / f"{name}.out"
            if not inp.is_file():
                raise PackageError(f"{inp}: test input missing (used by subtask {st.name})")
            if needs_output and not out.is_file():
                raise PackageError(f"{out}: expected output missing (used by subtask {st.name})")
            tests[name] = TestCase(name=name, input=inp, output=out if out.is_file() else None)
    return tests


def _load_checker(root: Path, meta: dict[str, Any]) -> CheckerSpec:
    conf = meta.get("checker") or {}
    if not isinstance(conf, dict):
        raise PackageError(f"{root / 'problem.json'}: 'checker' must be an object")
    where = root / "problem.json"
    src = next((p for p in (root / "checker" / "checker.cpp", root / "checker" / "checker.py") if p.is_file()), None)
    for key in ("abs_tol", "rel_tol"):
        if key in conf and limits.finite_number(conf[key], where, f"checker.{key}") < 0:
            raise PackageError(f"{where}: 'checker.{key}' must not be negative, not {conf[key]!r}")
    test_max = conf.get("test_max") or {}
    if isinstance(test_max, dict):
        for test, value in test_max.items():
            limits.points(value, where, f"checker.test_max.{test}")
    try:
        return CheckerSpec(source=src, **conf)
    except (ValidationError, TypeError) as exc:
        msg = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
        raise PackageError(f"{where}: bad 'checker' settings: {msg}") from None


def _load_grading(root: Path, meta: dict[str, Any], subtasks: tuple[Subtask, ...],
                  tests: dict[str, TestCase]) -> GradingSpec | None:
    """``grading`` of problem.json (a Kattis group tree, see docs/package-format.md), checked against the
    package: its grader program where a group is custom-graded, its tests, its subtask indices."""
    conf = meta.get("grading")
    if conf is None:
        return None
    where = root / "problem.json"
    if not isinstance(conf, dict):
        raise PackageError(f"{where}: 'grading' must be an object")
    src = next((p for p in (root / "group_grader" / "grader.cpp", root / "group_grader" / "grader.py")
                if p.is_file()), None)
    try:
        spec = GradingSpec(source=src, **conf)
    except (ValidationError, TypeError) as exc:
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise PackageError(f"{where}: bad 'grading': {msg}") from None
    groups = spec.root.groups()
    if any(g.custom for g in groups) and src is None:
        raise PackageError(f"{root / 'group_grader' / 'grader.cpp'}: a group is custom-graded but the package "
                           "has no grader")
    unknown = [t for t in spec.root.tests() if t not in tests]
    if unknown:
        raise PackageError(f"{where}: 'grading' names tests no subtask holds: {', '.join(unknown[:5])}")
    indices = [g.subtask for g in groups if g.subtask is not None]
    if len(set(indices)) != len(indices) or any(not 0 <= i < len(subtasks) for i in indices):
        raise PackageError(f"{where}: 'grading' groups must name distinct subtasks 0..{len(subtasks) - 1}")
    if len({g.name for g in groups}) != len(groups):
        raise PackageError(f"{where}: 'grading' group names must be distinct")
    return spec


def _load_solutions(root: Path, task_type: type[TaskType]) -> tuple[Solution, ...]:
    folder = root / "solutions"
    if not folder.is_dir():
        return ()
    expected_file = folder / "expected.json"
    expected = _read_json(expected_file) if expected_file.is_file() else {}
    if not isinstance(expected, dict):
        raise PackageError(f"{expected_file}: must hold an object of solution -> score")
    sols = []
    for cat_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
        for entry in sorted(cat_dir.iterdir()):
            is_source = entry.is_file() and entry.suffix.lower() in SOURCE_SUFFIXES
            is_outputs = not task_type.takes_code and (entry.is_dir() or entry.suffix.lower() == ".zip")
            if not (is_source or is_outputs):
                continue
            key = f"{cat_dir.name}/{entry.name}"
            score = expected.get(key)
            sols.append(Solution(category=cat_dir.name, path=entry, expected_score=None if score is None
                                 else limits.finite_number(score, expected_file, key)))
    unknown = {s.category for s in sols} - set(SOLUTION_CATEGORIES)
    if unknown:
        raise PackageError(f"{folder}: unknown solution categories: {', '.join(sorted(unknown))}")
    return tuple(sols)


def _defines(meta: dict[str, Any], where: Path) -> tuple[str, ...]:
    raw = meta.get("defines") or []
    ok = isinstance(raw, list) and all(isinstance(d, str) and re.fullmatch(r"[A-Za-z_]\w*(=\S*)?", d) for d in raw)
    if not ok:
        raise PackageError(f"{where}: 'defines' must be a list of macro names (NAME or NAME=value)")
    return tuple(raw)


def check_files(root: Path) -> None:
    """Refuse a package whose tree holds a symlink resolving outside ``root`` (or a broken or looping one)
    or a special file (FIFO, device, socket): the judge would read a host file, or block on one."""
    real_root = root.resolve()
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as exc:
            raise PackageError(f"{folder}: cannot read the folder ({exc.strerror})") from None
        for entry in entries:  # the kinds come from the folder listing: no stat per file
            if entry.is_symlink():
                path = Path(entry.path)
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    raise PackageError(f"{path}: a broken or looping symlink") from None
                if target != real_root and real_root not in target.parents:
                    raise PackageError(f"{path}: a symlink pointing outside the package")
                if not (target.is_file() or target.is_dir()):
                    raise PackageError(f"{path}: a symlink to a special file (not a file or folder)")
            elif entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            elif not entry.is_file(follow_symlinks=False):
                raise PackageError(f"{entry.path}: a special file (FIFO, device or socket), not a plain file")


def _code(meta: dict[str, Any], root: Path, where: Path) -> str:
    if "code" in meta:
        return limits.code(meta["code"], where)
    try:
        return limits.code(root.name, where)
    except PackageError:
        raise PackageError(f"{where}: 'code' missing, and the folder name {root.name!r} is not a plain "
                           "identifier to use instead") from None


def load_problem(path: str | os.PathLike[str]) -> Problem:
    """Load and check a problem package (folder or .zip); never writes into it.

    Every bound of :mod:`ioi_eval.problem.limits` is checked here; a defect is a :class:`PackageError`
    naming the file and the field. A subtask with no tests and no points is a :class:`PackageWarning`.
    """
    root = find_root(Path(path))
    check_files(root)
    meta_path = root / "problem.json"
    meta = _read_json(meta_path)
    if not isinstance(meta, dict):
        raise PackageError(f"{meta_path}: must hold a JSON object")
    for key in ("time_limit", "memory_limit", "task_type"):
        if key not in meta:
            raise PackageError(f"{meta_path}: required field '{key}' missing")
    task_type = meta["task_type"]
    kind = TASK_TYPES.get(task_type) if isinstance(task_type, str) else None
    if kind is None:
        raise PackageError(f"{meta_path}: unsupported task_type {task_type!r} ({task_type_names()})")
    code = _code(meta, root, meta_path)
    time_limit = limits.time_limit(meta["time_limit"], meta_path)
    memory_limit = limits.memory_limit(meta["memory_limit"], meta_path)
    precision = limits.score_precision(meta.get("score_precision", 2), meta_path)
    max_submissions = limits.integer(meta.get("max_submissions", 50), meta_path, "max_submissions", 1,
                                     limits.MAX_SUBMISSIONS)
    params = _task_params(meta.get("task_type_params"), task_type, meta_path)
    task_params = kind.load_params(params, root, meta_path)
    subtasks = _load_subtasks(root, meta)
    checker = _load_checker(root, meta)
    tests = _load_tests(root, subtasks, kind.needs_expected_output)
    graders = root / "graders"
    statement = root / "statement.md"
    solutions = _load_solutions(root, kind)
    try:
        return Problem(
            code=code,
            name=str(meta.get("name") or code),
            root=root,
            time_limit=time_limit,
            memory_limit=memory_limit,
            score_precision=precision,
            task_type=task_type,
            params=task_params,
            score_type=_score_type(meta.get("score_type", "GroupMin"), meta_path),
            subtasks=subtasks,
            tests=tests,
            checker=checker,
            grader_files=tuple(sorted(p for p in graders.iterdir() if p.is_file())) if graders.is_dir() else (),
            statement=_statement(statement),
            solutions=solutions,
            max_submissions=max_submissions,
            scoring=meta.get("scoring", "ioi"),
            defines=_defines(meta, meta_path),
            grading=_load_grading(root, meta, subtasks, tests),
        )
    except ValidationError as exc:
        raise PackageError(f"{meta_path}: {_first_error(exc)}") from None
    except (ValueError, TypeError) as exc:
        raise PackageError(f"{meta_path}: {exc}") from None


def _first_error(exc: ValidationError) -> str:
    """The first error of a pydantic validation, on one line: ``'field': message``."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"])
    return f"'{field}': {err['msg']}" if field else err["msg"]


def _statement(path: Path) -> str | None:
    if not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def discover(path: str | os.PathLike[str]) -> list[Path]:
    """Package roots under ``path``: the path itself if it is a package, else its children."""
    p = Path(path)
    try:
        return [find_root(p)]
    except PackageError:
        if not p.is_dir():
            raise
    found = []
    for child in sorted(p.iterdir()):
        if (child / "problem.json").is_file() or child.suffix.lower() == ".zip":
            found.append(child)
    if not found:
        raise PackageError(f"{p}: holds no problem packages")
    return found

