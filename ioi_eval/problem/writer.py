"""The one writer of the CMS package layout (the layout :mod:`ioi_eval.sources.loader` reads).

Importers describe a problem as a :class:`PackageDraft` and :func:`write_package` lays it out; dataset
materialisers write single files through :func:`write_file` / :func:`write_json` after checking every
dataset-given name with :func:`check_code` / :func:`safe_relative`; tests and the adversarial suite write
plain data through :func:`write_plain_package`. Nothing else writes package files.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import PackageError, SourceError

_CODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_code(code: str, where: str) -> str:
    """A problem code usable as a folder and file name (``<code>.cpp``, ``<code>.h``)."""
    if not _CODE.fullmatch(code or "") or code in (".", ".."):
        raise SourceError(f"{where}: unusable problem id {code!r} (letters, digits, '_', '-', '.')")
    return code


def safe_relative(path: str, where: str) -> PurePosixPath:
    """A dataset-given file path, refused when absolute or escaping the package."""
    rel = PurePosixPath(path.replace("\\", "/").removeprefix("./"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise SourceError(f"{where}: refusing the file path {path!r} (outside the package)")
    return rel


def write_file(root: Path, rel: str | PurePosixPath, content: str | bytes | None) -> Path:
    """Write ``content`` (text as UTF-8, unchanged newlines) at ``root/rel``."""
    target = root / Path(*PurePosixPath(rel).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else (content or "").encode("utf-8")
    target.write_bytes(data)
    return target


def write_json(root: Path, rel: str, data: Any) -> Path:
    """Write a JSON file."""
    return write_file(root, rel, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


@dataclass
class SubtaskDraft:
    """One subtask: its name (file stem), points, tests, and a score type where not the problem's."""

    name: str
    points: float
    tests: list[str]
    score_type: str | None = None


@dataclass
class PackageDraft:
    """Everything a CMS-layout package needs; ``files`` maps package paths to source files or bytes."""

    code: str
    name: str
    time_limit: float
    memory_limit: int
    task_type: str = "Batch"
    task_params: dict[str, Any] = field(default_factory=dict)
    checker: dict[str, Any] | None = None
    subtasks: list[SubtaskDraft] = field(default_factory=list)
    files: dict[str, Path | bytes] = field(default_factory=dict)
    origin: dict[str, Any] = field(default_factory=dict)
    grading: dict[str, Any] | None = None

    def add_test(self, name: str, inp: Path, out: Path | None) -> None:
        """Add ``tests/<name>.in`` (and ``.out``) from the source package's files."""
        if f"tests/{name}.in" in self.files:
            raise PackageError(f"{inp}: two tests map to the same name {name!r}")
        self.files[f"tests/{name}.in"] = inp
        if out is not None:
            self.files[f"tests/{name}.out"] = out

    def problem_json(self) -> dict[str, Any]:
        """The ``problem.json`` of the package."""
        meta: dict[str, Any] = {"protocol_version": 1, "code": self.code, "name": self.name,
                                "time_limit": self.time_limit, "memory_limit": self.memory_limit,
                                "score_precision": 2, "task_type": self.task_type,
                                "task_type_params": self.task_params}
        if self.checker:
            meta["checker"] = self.checker
        if self.grading:
            meta["grading"] = self.grading
        if self.origin:
            meta["imported_from"] = self.origin
        return meta


def write_package(draft: PackageDraft, root: Path) -> None:
    """Write ``draft`` as a CMS-layout package into the (empty) folder ``root``."""
    if not draft.subtasks or not any(st.tests for st in draft.subtasks):
        raise PackageError(f"{draft.origin.get('path', draft.code)}: the package holds no tests")
    (root / "problem.json").write_text(json.dumps(draft.problem_json(), indent=1) + "\n", encoding="utf-8")
    width = max(2, len(str(len(draft.subtasks) - 1)))
    for i, st in enumerate(draft.subtasks):
        data: dict[str, Any] = {"score": st.points, "testcases": st.tests}
        if st.score_type:
            data["score_type"] = st.score_type
        stem = re.sub(r"[^A-Za-z0-9_.-]", "_", st.name)
        path = root / "subtasks" / f"{i:0{width}d}-{stem}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    for rel, src in draft.files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            if isinstance(src, bytes):
                target.write_bytes(src)
            else:
                shutil.copyfile(src, target)  # follows symlinks
        except OSError as exc:
            raise PackageError(f"{src if not isinstance(src, bytes) else rel}: cannot copy: {exc}") from None


def write_plain_package(root: Path, *, problem: dict, subtasks: dict[str, dict], tests: dict[str, tuple[str, str]],
                        files: dict[str, str] | None = None) -> Path:
    """Write a package folder from plain data, as given (``problem.json`` and ``subtasks/<name>.json`` verbatim).

    For hand-made packages (the adversarial suite, tests); unlike :func:`write_package` it checks and adds
    nothing, so a test can write a malformed package on purpose.
    """
    root.mkdir(parents=True, exist_ok=True)
    write_file(root, "problem.json", json.dumps(problem))
    (root / "subtasks").mkdir(exist_ok=True)
    for name, st in subtasks.items():
        write_file(root, f"subtasks/{name}.json", json.dumps(st))
    (root / "tests").mkdir(exist_ok=True)
    for name, (inp, out) in tests.items():
        write_file(root, f"tests/{name}.in", inp)
        write_file(root, f"tests/{name}.out", out)
    for rel, text in (files or {}).items():
        write_file(root, rel, text)
    return root
