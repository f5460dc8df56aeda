"""Polygon (Codeforces) problem packages: ``problem.xml`` with a ``tests`` testset.

A *full* package stores its tests (``tests/01`` and the answers ``tests/01.a``) and imports as is;
a *standard* package only describes how tests are generated (``method="generated"`` with a
``cmd``), which needs Polygon's generators and ``doall`` scripts: that is an error naming the
missing files and generator commands. The import into a CMS-layout package:

- time limit (ms) and memory limit (bytes) of the testset; ``input-file``/``output-file`` of
  ``<judging>`` become Batch file I/O;
- scoring: with points, each group is a subtask: ``complete-group`` -> GroupMin worth the group's
  points (else the sum of its tests' points); ``each-test`` -> Sum when its tests are worth the same,
  else one subtask per test; a group's ``dependencies`` add the tests of the groups it depends on
  (transitively) to its subtask. Without points: one subtask of 100 where every test must pass;
- the checker (``assets/checker``, testlib) is compiled with the ``testlib.h`` from the package's
  ``files/`` (never one of ours) and runs in the testlib protocol; an interactor makes the task
  Communication with ``interactor = testlib`` (the checker then judges the interactor's output);
- resources compiled with the solution (``<asset name="solution"/>``: a grader and its headers)
  become ``graders/grader.cpp`` (Batch with a grader) or ``graders/stub.cpp`` (interactive);
- solutions tagged main/accepted/wrong-answer/... go to the matching ``solutions/`` categories.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from ..errors import PackageError
from ..judge.languages import LANGUAGES
from ..judge.task_types import TASK_TYPES, Communication
from ..problem import limits
from ..problem.writer import PackageDraft, SubtaskDraft
from .materialise import holds_packages, materialise, package_roots, safe_code

SOLUTION_TAGS = {
    "main": "model_solution", "accepted": "correct", "wrong-answer": "incorrect",
    "presentation-error": "incorrect", "rejected": "incorrect", "time-limit-exceeded": "time_limit",
    "memory-limit-exceeded": "memory_limit", "failed": "failed",
}
PATTERN = re.compile(r"%0?(\d*)d")


def _expand(pattern: str, index: int, where: Path) -> str:
    """A Polygon path pattern (``tests/%02d``) for test ``index`` (1-based)."""
    if not PATTERN.search(pattern):
        raise PackageError(f"{where}: path pattern {pattern!r} has no %d")
    try:
        return pattern % index
    except (TypeError, ValueError) as exc:
        raise PackageError(f"{where}: bad path pattern {pattern!r} ({exc})") from None


def _float(value: str | None, where: Path, what: str) -> float:
    return 0.0 if value in (None, "") else limits.finite_number(value, where, what)


class PolygonImporter:
    """Turns one Polygon package folder into a :class:`PackageDraft`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.xml_path = root / "problem.xml"
        try:
            self.xml = ET.parse(self.xml_path).getroot()
        except (ET.ParseError, OSError) as exc:
            raise PackageError(f"{self.xml_path}: not valid XML ({exc})") from None

    def _testset(self) -> ET.Element:
        judging = self.xml.find("judging")
        if judging is None:
            raise PackageError(f"{self.xml_path}: no <judging> section")
        sets = judging.findall("testset")
        chosen = next((t for t in sets if t.get("name") == "tests"), sets[0] if sets else None)
        if chosen is None:
            raise PackageError(f"{self.xml_path}: no <testset> in <judging>")
        return chosen

    def _text(self, parent: ET.Element, tag: str, required: bool = True) -> str | None:
        node = parent.find(tag)
        if node is None or not (node.text or "").strip():
            if required:
                raise PackageError(f"{self.xml_path}: <{tag}> missing in the testset")
            return None
        return node.text.strip()

    def name(self) -> str:
        """The English name (or the first given); empty when there is none."""
        names = self.xml.findall("names/name")
        chosen = next((n for n in names if n.get("language") == "english"), names[0] if names else None)
        return chosen.get("value", "") if chosen is not None else ""

    def _file(self, node: ET.Element | None, what: str) -> Path | None:
        if node is None:
            return None
        source = node.find("source")
        if source is None or not source.get("path"):
            raise PackageError(f"{self.xml_path}: the {what} has no <source path=...>")
        path = self.root / source.get("path", "")
        copy = node.find("copy")
        if not path.is_file() and copy is not None and (self.root / copy.get("path", "")).is_file():
            path = self.root / copy.get("path", "")  # the copy Polygon puts at the package's root
        if not path.is_file():
            raise PackageError(f"{path}: the {what}'s source is missing from the package")
        return path

    def _headers(self, draft: PackageDraft, folder: str, what: str, source: Path) -> None:
        """Copy the package's headers (``files/*.h``) next to a trusted program; testlib.h must be there."""
        files = self.root / "files"
        headers = sorted(p for p in files.iterdir() if p.suffix in (".h", ".hpp")) if files.is_dir() else []
        for h in headers:
            draft.files[f"{folder}/{h.name}"] = h
        if b"testlib.h" in source.read_bytes() and not any(h.name == "testlib.h" for h in headers):
            raise PackageError(f"{files / 'testlib.h'}: the {what} includes testlib.h but the package's "
                               "files/ folder has none")

    def draft(self) -> PackageDraft:
        """The whole package: limits, file I/O, tests, checker or interactor, graders, subtasks, solutions."""
        ts = self._testset()
        time_limit = limits.time_limit(self._text(ts, "time-limit"), self.xml_path, "time-limit", scale=1e-3)
        memory = limits.memory_limit(self._text(ts, "memory-limit"), self.xml_path, "memory-limit")
        code = safe_code(self.xml.get("short-name") or self.root.name)
        draft = PackageDraft(code=code, name=self.name() or code, time_limit=time_limit, memory_limit=memory,
                             origin={"format": "polygon", "path": str(self.root),
                                     "revision": self.xml.get("revision", "")})
        judging = self.xml.find("judging")
        assert judging is not None
        params: dict[str, Any] = {}
        if judging.get("input-file"):
            params["input_file"] = judging.get("input-file")
        if judging.get("output-file"):
            params["output_file"] = judging.get("output-file")

        # Tests.
        tests = ts.findall("tests/test")
        count = int(_float(self._text(ts, "test-count", required=False) or str(len(tests)), self.xml_path,
                           "test-count"))
        if count != len(tests):
            raise PackageError(f"{self.xml_path}: test-count is {count} but {len(tests)} <test> elements are listed")
        in_pat = self._text(ts, "input-path-pattern") or ""
        ans_pat = self._text(ts, "answer-path-pattern") or ""
        missing_in, missing_ans, generated = [], [], []
        names: list[str] = []
        width = max(2, len(str(count)))
        for i, t in enumerate(tests, 1):
            inp, ans = self.root / _expand(in_pat, i, self.xml_path), self.root / _expand(ans_pat, i, self.xml_path)
            if not inp.is_file():
                missing_in.append(inp)
                if t.get("method") == "generated":
                    generated.append(t.get("cmd", "?"))
            if not ans.is_file():
                missing_ans.append(ans)
            name = f"{i:0{width}d}"
            names.append(name)
            if inp.is_file() and ans.is_file():
                draft.add_test(name, inp, ans)
        if missing_in or missing_ans:
            head = ", ".join(str(p.relative_to(self.root)) for p in (missing_in + missing_ans)[:5])
            more = len(missing_in) + len(missing_ans) - 5
            msg = f"{self.root}: {len(missing_in)} test inputs and {len(missing_ans)} answers are missing ({head}"
            msg += f" and {more} more)" if more > 0 else ")"
            if generated:
                gens = ", ".join(sorted({c.split()[0] for c in generated}))
                msg += (f"; this is a standard package whose tests are generated by {gens} "
                        f"(e.g. '{generated[0]}'); download the full package (with tests) from Polygon, "
                        "or build its tests with the package's doall script first")
            elif missing_ans:
                msg += "; the answers are made by the main solution in Polygon: use a full package"
            raise PackageError(msg)

        # Checker and interactor.
        assets = self.xml.find("assets")
        checker_node = assets.find("checker") if assets is not None else None
        interactor_node = assets.find("interactor") if assets is not None else None
        checker = self._file(checker_node, "checker")
        if checker is not None:
            draft.files["checker/checker.cpp"] = checker
            self._headers(draft, "checker", "checker", checker)
            draft.checker = {"protocol": "testlib"}
        else:
            draft.checker = {"standard": "tokens"}
        interactor = self._file(interactor_node, "interactor")
        if interactor is not None:
            draft.files["graders/manager.cpp"] = interactor
            self._headers(draft, "graders", "interactor", interactor)
            draft.task_type = Communication.name
            params.update({"interactor": "testlib", "num_processes": 1, "user_io": "std_io", "compilation": "alone"})
        self.add_graders(draft, params)
        draft.task_params = params

        draft.subtasks = self.subtasks(ts, tests, names)
        self.add_solutions(draft, assets)
        self.add_statement(draft)
        return draft

    def subtasks(self, ts: ET.Element, tests: list[ET.Element], names: list[str]) -> list[SubtaskDraft]:
        """Subtasks from the test groups and their points policies (one of 100 points without points)."""
        has_points = any(_float(t.get("points"), self.xml_path, "points") for t in tests) or any(
            _float(g.get("points"), self.xml_path, "points") for g in ts.findall("groups/group"))
        if not has_points:
            return [SubtaskDraft("all", 100.0, names)]
        # Groups in order of their <group> element, then of first use by a test.
        order: list[str] = [g.get("name", "") for g in ts.findall("groups/group")]
        for t in tests:
            if t.get("group", "") not in order:
                order.append(t.get("group", ""))
        conf = {g.get("name", ""): g for g in ts.findall("groups/group")}
        members: dict[str, list[int]] = {g: [] for g in order}
        for i, t in enumerate(tests):
            members[t.get("group", "")].append(i)
        deps = {g: [d.get("group", "") for d in conf[g].findall("dependencies/dependency")] if g in conf else []
                for g in order}

        def closure(g: str, seen: set[str]) -> list[str]:
            out: list[str] = []
            for d in deps.get(g, []):
                if d not in members:
                    raise PackageError(f"{self.xml_path}: group {g!r} depends on unknown group {d!r}")
                if d in seen:
                    raise PackageError(f"{self.xml_path}: group dependencies form a cycle through {d!r}")
                out += [x for x in closure(d, seen | {d}) if x not in out]
                if d not in out:
                    out.append(d)
            return out

        subtasks: list[SubtaskDraft] = []
        for g in order:
            idx = members[g]
            if not idx:
                continue
            label = g or "tests"
            node = conf.get(g)
            policy = node.get("points-policy", "complete-group") if node is not None else "each-test"
            test_points = [_float(tests[i].get("points"), self.xml_path, "points") for i in idx]
            dep_tests = [names[i] for d in closure(g, {g}) for i in members[d]]
            own = [names[i] for i in idx]
            if policy == "complete-group":
                group_points = node.get("points") if node is not None else None
                points = _float(group_points, self.xml_path, "points") if group_points else sum(test_points)
                subtasks.append(SubtaskDraft(label, points, dep_tests + [n for n in own if n not in dep_tests]))
            elif policy == "each-test":
                # Tests worth nothing (often the samples) are judged in a 0-point subtask of their own.
                scored = [(n, p) for n, p in zip(own, test_points, strict=True) if p > 0]
                unscored = [n for n, p in zip(own, test_points, strict=True) if p <= 0]
                if unscored:
                    subtasks.append(SubtaskDraft(f"{label}-unscored" if scored else label, 0.0, unscored))
                if scored and not dep_tests and len({p for _, p in scored}) == 1:
                    subtasks.append(SubtaskDraft(label, sum(p for _, p in scored), [n for n, _ in scored], "Sum"))
                else:  # unequal points or dependencies: one all-or-nothing subtask per test
                    for n, p in scored:
                        subtasks.append(SubtaskDraft(f"{label}-{n}", p, [*dep_tests, n]))
            else:
                raise PackageError(f"{self.xml_path}: group {g!r} has an unknown points-policy {policy!r}")
        return subtasks

    def add_graders(self, draft: PackageDraft, params: dict[str, Any]) -> None:
        """Resources compiled with solutions (``<asset name="solution"/>``): a C++ grader and its headers."""
        sources = []
        for res in self.xml.findall("files/resources/file"):
            if not any(a.get("name") == "solution" for a in res.findall("assets/asset")):
                continue
            path = self.root / res.get("path", "")
            if not path.is_file():
                raise PackageError(f"{path}: a grader resource named in problem.xml is missing")
            if path.suffix in (".h", ".hpp"):
                draft.files[f"graders/{path.name}"] = path
            elif path.suffix in (".cpp", ".cc"):
                sources.append(path)
        if len(sources) > 1:
            raise PackageError(f"{self.xml_path}: several C++ grader resources; ioi-eval compiles one grader")
        if sources:
            harness = TASK_TYPES[draft.task_type].harness  # Batch: grader; Communication: stub
            if harness is None:
                raise PackageError(f"{self.xml_path}: a {draft.task_type} task is not compiled with a grader")
            draft.files[f"graders/{harness}.cpp"] = sources[0]
            params["compilation"] = harness

    def add_solutions(self, draft: PackageDraft, assets: ET.Element | None) -> None:
        """C++ and Python solutions whose tag maps onto a ``solutions/`` category."""
        if assets is None:
            return
        for sol in assets.findall("solutions/solution"):
            category = SOLUTION_TAGS.get(sol.get("tag", ""))
            src_node = sol.find("source")
            if category is None or src_node is None:
                continue
            src = self.root / src_node.get("path", "")
            kind = src_node.get("type", "")
            if not src.is_file():
                continue
            if kind.startswith("cpp") or src.suffix in (".cpp", ".cc"):  # Polygon's types: cpp.g++17, python.3...
                language = "cpp"
            elif kind.startswith("python.3") or src.suffix == ".py":
                language = "python"
            else:
                continue
            draft.files[f"solutions/{category}/{LANGUAGES[language].source_name(src.stem)}"] = src

    def add_statement(self, draft: PackageDraft) -> None:
        """The English statement sections (LaTeX kept as is) joined into ``statement.md``."""
        folder = self.root / "statement-sections" / "english"
        parts = []
        for section, title in (("legend", ""), ("input", "Input"), ("output", "Output"), ("notes", "Notes")):
            p = folder / f"{section}.tex"
            if p.is_file():
                text = p.read_text(encoding="utf-8", errors="replace").strip()
                parts.append(f"## {title}\n\n{text}" if title else text)
        if parts:
            draft.files["statement.md"] = ("\n\n".join(parts) + "\n").encode()


class PolygonSource:
    """Polygon packages: one package folder (or ``.zip``), a folder of them, or a contest package
    (``contest.xml`` with ``problems/<index>/``)."""

    def __init__(self, path: str | Path) -> None:
        self.spec = str(path)
        self.path = Path(path)

    def problem_roots(self) -> list[Path]:
        """The Polygon package folders under the path."""
        return package_roots(self.path, is_polygon_package, "Polygon package (a folder with problem.xml)",
                             container=_contest_problems)

    def packages(self) -> list[Path]:
        """Each package imported (once, cached by content) as a CMS-layout package."""
        return [materialise(root, "polygon", lambda r: PolygonImporter(r).draft()) for root in self.problem_roots()]


def is_polygon_package(path: Path) -> bool:
    """A folder holding ``problem.xml``."""
    return (path / "problem.xml").is_file()


def _is_contest(path: Path) -> bool:
    return (path / "contest.xml").is_file()


def _contest_problems(path: Path) -> Path:
    """Where a folder's packages lie: a Polygon contest package keeps them in ``problems/A``, ..."""
    return path / "problems" if _is_contest(path) and (path / "problems").is_dir() else path


def detect(path: Path) -> PolygonSource | None:
    """A :class:`PolygonSource` for a Polygon package, a folder of them, or a zip of one."""
    return PolygonSource(path) if holds_packages(path, "problem.xml", is_polygon_package, _is_contest) else None
