"""Kattis problem packages (problemarchive.org format: ``legacy``, ``2023-07-draft`` and ``2025-09``).

A package is a folder with ``problem.yaml``; ``data/sample`` and ``data/secret`` hold ``X.in`` /
``X.ans`` test cases (symlinks followed). Each package is imported into a CMS-layout package:

- tests are named after their path under ``data/`` with ``/`` turned into ``-``
  (``secret/group1/01`` -> ``secret-group1-01``); the samples form a 0-point subtask;
- pass-fail problems: one subtask of 100 points holding every secret test;
- scoring problems: one subtask per test data group of ``data/secret`` (or ``secret`` itself), its
  points and aggregation from ``testdata.yaml`` (legacy ``accept_score``/``range``/``grader_flags``,
  2023-07 ``scoring``) or ``test_group.yaml`` (2025-09 ``max_score``/``score_aggregation``);
  ``min``/``pass-fail`` -> GroupMin, ``sum`` -> Sum; ``require_pass`` groups' tests join the subtask;
- the default output validator maps onto a standard checker (its flags: case_sensitive,
  space_change_sensitive, float_*tolerance); a custom C/C++ validator keeps the Kattis protocol
  (``checker.protocol = kattis``); interactive problems become Communication with
  ``interactor = kattis``; ``include/cpp`` becomes the grader (or the stub, when interactive);
- tests with the same input, answer and validator flags (symlinked into several groups) are one test;
- ``grading: custom`` groups: the ``graders/`` program becomes ``group_grader/grader.*`` and the ``data/``
  group tree ``problem.json``'s ``grading``, graded by the judge as Kattis does (``judge/grading.py``);
- ``kattis:PATH?time_limit=derive``: a missing time limit is derived from the accepted submissions.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import yaml

from ..errors import PackageError, SourceError
from ..judge.languages import get_language, language_of
from ..judge.task_types import Communication
from ..problem import limits as bounds
from ..problem.writer import PackageDraft, SubtaskDraft
from .materialise import (
    holds_packages,
    materialise,
    package_roots,
    safe_code,
    walk_files,
)
from .timelimit import PROVISIONAL_S, TimeRule, derive_time_limit

CPP_SOURCES = (".cpp", ".cc", ".cxx", ".c++", ".c")
HEADERS = (".h", ".hpp", ".hh")
SUBMISSION_CATEGORIES = {
    "accepted": "correct", "partially_accepted": "partially_correct", "wrong_answer": "incorrect",
    "time_limit_exceeded": "time_limit", "run_time_error": "runtime_error",
}
NEW_FORMATS = ("2023-07-draft", "2023-07", "2025-09", "2025-09-draft", "draft")


def _yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PackageError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PackageError(f"{path}: must hold a mapping")
    return data


def _args(value: Any, where: Path) -> list[str]:
    """Validator flags given as a string (legacy) or a list of strings (2023-07 on)."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return [str(v) for v in value]
    if isinstance(value, dict):
        raise PackageError(f"{where}: per-validator flag maps are not supported (use one output validator)")
    raise PackageError(f"{where}: validator flags must be a string or a list of strings")


def _number(value: Any, where: Path, key: str) -> float:
    return bounds.finite_number(value, where, key)


@dataclass
class _Test:
    name: str  # path under data/ without the extension, e.g. secret/group1/01
    inp: Path
    ans: Path


@dataclass
class _Group:
    """A folder of ``data/``: its config (inherited and own), tests (recursively) and direct sub-folders."""

    path: Path
    rel: str
    config: dict[str, Any]
    own: dict[str, Any]  # the keys of its own config file only
    tests: list[_Test] = field(default_factory=list)
    children: list[_Group] = field(default_factory=list)
    direct_tests: int = 0
    items: list[_Test | _Group] = field(default_factory=list)  # direct tests and sub-groups, in Kattis order


class KattisImporter:
    """Turns one Kattis problem folder into a :class:`PackageDraft`."""

    def __init__(self, root: Path, derive_time_limit: bool = False) -> None:
        self.root = root
        self.derive = derive_time_limit
        self.meta = _yaml(root / "problem.yaml")
        self.version = str(self.meta.get("problem_format_version", "legacy"))
        self.new = self.version in NEW_FORMATS
        self.group_file = "test_group.yaml" if self.version.startswith("2025") else "testdata.yaml"

    # -- problem.yaml ----------------------------------------------------------------------
    def types(self) -> set[str]:
        """The problem types (``pass-fail``, ``scoring``, ``interactive``, ...), legacy ``validation`` included."""
        raw = self.meta.get("type", "pass-fail")
        types = {raw} if isinstance(raw, str) else set(raw or [])
        validation = str(self.meta.get("validation", "default")).split()
        if "interactive" in validation:
            types.add("interactive")
        if "score" in validation:
            types.add("scoring-validator")
        return types

    def given_time_limit(self) -> float | None:
        """Seconds: ``limits.time_limit``, else the ``.timelimit`` file, else None."""
        limits = self.meta.get("limits") or {}
        if "time_limit" in limits:
            return bounds.time_limit(limits["time_limit"], self.root / "problem.yaml", "limits.time_limit")
        tl_file = self.root / ".timelimit"
        if tl_file.is_file():
            text = tl_file.read_text().split()
            if text:
                return bounds.time_limit(text[0], tl_file, ".timelimit")
        return None

    def time_limit(self) -> float:
        """The given time limit; without one an error, unless it is to be derived (then a provisional one)."""
        given = self.given_time_limit()
        if given is not None:
            return given
        if self.derive:
            return PROVISIONAL_S
        raise PackageError(f"{self.root}: no time limit: the package has neither limits.time_limit in "
                           "problem.yaml nor a .timelimit file (import it as kattis:PATH?time_limit=derive "
                           "to derive it from the accepted submissions as Kattis does, or write it into .timelimit)")

    def time_rule(self) -> TimeRule:
        """problemtools' multiplier and resolution for a derived limit (legacy ``time_multiplier``, default 5;
        2023-07 on ``time_multipliers.ac_to_time_limit``, default 2; ``time_resolution``, default 1)."""
        limits = self.meta.get("limits") or {}
        where = self.root / "problem.yaml"
        if self.new:
            multiplier = (limits.get("time_multipliers") or {}).get("ac_to_time_limit", 2.0)
        else:
            multiplier = limits.get("time_multiplier", 5.0)
        rule = TimeRule(_number(multiplier, where, "time multiplier"),
                        _number(limits.get("time_resolution", 1.0), where, "limits.time_resolution"))
        if rule.multiplier <= 0 or rule.resolution <= 0:
            raise PackageError(f"{where}: 'limits': the time multiplier and time_resolution must be above 0")
        return rule

    def memory_limit(self) -> int:
        """Bytes: ``limits.memory`` (MiB, default 2048)."""
        limits = self.meta.get("limits") or {}
        mib = limits.get("memory", 2048)
        return bounds.memory_limit(mib, self.root / "problem.yaml", "limits.memory", unit=1 << 20)

    def name(self) -> str:
        """The English name (or the first given), else the folder name."""
        raw = self.meta.get("name")
        if isinstance(raw, dict):
            raw = raw.get("en") or next(iter(raw.values()), None)
        return str(raw) if raw else self.root.name

    # -- test data ---------------------------------------------------------------------------
    def load_group(self, path: Path, rel: str, inherited: dict[str, Any],
                   above: frozenset[Path] = frozenset()) -> _Group:
        """The group folder ``path`` with its config (``inherited`` merged with its own) and tests, recursively;
        ``above`` holds the real folders on the way down, so a symlink loop is an error."""
        real = path.resolve()
        if real in above:
            raise PackageError(f"{path}: a symlinked folder loops back to {real}")
        own = _yaml(path / self.group_file)
        config = {**inherited, **own} if not self.new else {**{k: v for k, v in inherited.items()
                                                                 if k != "scoring"}, **own}
        group = _Group(path=path, rel=rel, config=config, own=own)
        entries = sorted(path.iterdir()) if path.is_dir() else []
        for entry in entries:
            if entry.is_dir():
                child = self.load_group(entry, f"{rel}/{entry.name}", config, above | {real})
                group.children.append(child)
                group.items.append(child)
                group.tests.extend(child.tests)
            elif entry.suffix == ".in" and entry.is_file():
                ans = entry.with_suffix(".ans")
                if not ans.is_file():
                    raise PackageError(f"{ans}: answer file missing for test {entry}")
                group.tests.append(_Test(name=f"{rel}/{entry.stem}", inp=entry, ans=ans))
                group.items.append(group.tests[-1])
                group.direct_tests += 1
        # Lexicographic order of tests and groups by name, as the format says.
        group.tests.sort(key=lambda t: t.name)
        return group

    def test_args(self, test: _Test, group: _Group) -> list[str]:
        """The output validator flags of ``test``: its group's, or (2023-07 on) its own ``<test>.yaml``."""
        key = "output_validator_args" if self.new else "output_validator_flags"
        args = _args(group.config.get(key), group.path / self.group_file)
        if self.new:
            per_test = _yaml(test.inp.with_suffix(".yaml"))
            if "output_validator_args" in per_test:
                args = _args(per_test["output_validator_args"], test.inp.with_suffix(".yaml"))
        return args

    # -- validation --------------------------------------------------------------------------
    def validator_dir(self) -> Path | None:
        """The non-empty ``output_validator(s)/`` folder, if any."""
        for name in ("output_validator", "output_validators"):
            d = self.root / name
            if d.is_dir() and any(d.iterdir()):
                return d
        return None

    def validator_files(self, folder: Path) -> dict[str, Path]:
        """The validator's sources as ``{name in the package: file}``, the main file as ``main.cpp``
        (C/C++, with its headers) or ``main.py`` (a single-file Python 3 program)."""
        programs = [p for p in sorted(folder.iterdir()) if not p.name.startswith(".")]
        if len(programs) == 1 and programs[0].is_dir():
            folder = programs[0]
        files = list(walk_files(folder))
        sources = [p for p in files if p.suffix.lower() in CPP_SOURCES]
        python = [p for p in files if p.suffix.lower() == ".py"]
        if not sources and len(python) == 1:
            return {"main.py": python[0]}
        if not sources:
            found = ", ".join(p.name for p in files) or "nothing"
            raise PackageError(f"{folder}: only C/C++ or single-file Python output validators can be imported "
                               f"(found: {found})")
        mains = [p for p in sources if re.search(rb"\bmain\s*\(", p.read_bytes())]
        if len(sources) > 1 and len(mains) != 1:
            raise PackageError(f"{folder}: the validator has several C/C++ sources; ioi-eval compiles "
                               "one source file (with its headers)")
        main = mains[0] if mains else sources[0]
        out = {"main.cpp": main}
        for p in files:
            if p.suffix.lower() in HEADERS:
                out[p.name] = p
        return out

    def default_checker(self, flags: list[str]) -> dict[str, Any]:
        """The standard checker equivalent to the default validator with ``flags``."""
        case = space = False
        abs_tol = rel_tol = None
        i = 0
        while i < len(flags):
            flag = flags[i]
            if flag == "case_sensitive":
                case = True
            elif flag == "space_change_sensitive":
                space = True
            elif flag in ("float_tolerance", "float_relative_tolerance", "float_absolute_tolerance"):
                if i + 1 >= len(flags):
                    raise PackageError(f"{self.root}: validator flag {flag} needs a value")
                value = _number(flags[i + 1], self.root / "problem.yaml", flag)
                i += 1
                if flag in ("float_tolerance", "float_absolute_tolerance"):
                    abs_tol = value
                if flag in ("float_tolerance", "float_relative_tolerance"):
                    rel_tol = value
            else:
                raise PackageError(f"{self.root}: unknown default validator flag {flag!r}")
            i += 1
        if abs_tol is not None or rel_tol is not None:
            # Tokens that parse as numbers compare within either tolerance; others as strings.
            return {"standard": "floats" if case else "floats_nocase", "abs_tol": abs_tol or 0.0,
                    "rel_tol": rel_tol or 0.0}
        if space:  # closest: line-based white-diff (case-sensitive)
            return {"standard": "white_diff"}
        return {"standard": "tokens" if case else "yes_no"}

    # -- scoring -----------------------------------------------------------------------------
    def scoring_groups(self, secret: _Group) -> list[_Group]:
        """The groups of ``data/secret`` that become subtasks (``secret`` itself when it has none)."""
        if self.version.startswith("2025"):
            groups = [c for c in secret.children if (c.path / "test_group.yaml").is_file()]
            return groups or [secret]
        if secret.children and secret.direct_tests == 0:
            return secret.children
        return [secret]

    def legacy_group(self, group: _Group, custom_score: bool) -> tuple[float, str | None, float]:
        """(points, score type override, per-test maximum) of a legacy scoring group."""
        where = group.path / "testdata.yaml"
        flags = str(group.config.get("grader_flags") or "").split()
        modes = [f for f in flags if f in ("sum", "avg", "min", "max")]
        aggregation = modes[-1] if modes else "sum"
        verdicts = [f for f in flags if f in ("worst_error", "first_error", "always_accept")]
        always = bool(verdicts) and verdicts[-1] == "always_accept"
        accept = _number(group.config.get("accept_score", 1), where, "accept_score")
        top = math.inf
        if "range" in group.config:
            parts = str(group.config["range"]).split()
            if len(parts) != 2:
                raise PackageError(f"{where}: 'range' must be two numbers")
            top = _number(parts[1], where, "range")
        n = len(group.tests)
        if self.custom_graded(group):
            if not math.isfinite(top):
                raise PackageError(f"{where}: a custom-graded group (or one holding one) needs a finite 'range' "
                                   "(its upper end is the group's maximum score)")
            return top, None, top
        if aggregation == "max":
            raise PackageError(f"{where}: grader_flags 'max' has no CMS equivalent")
        per_test = accept
        if custom_score and math.isfinite(top):
            per_test = top / n if aggregation == "sum" else top
        points = per_test * n if aggregation == "sum" else per_test
        if math.isfinite(top):
            points = min(points, top)
        # A rejection makes the group rejected (score 0) unless the verdict mode is always_accept.
        score_type = "Sum" if aggregation in ("sum", "avg") and always else None
        return points, score_type, per_test

    def custom_graded(self, group: _Group) -> bool:
        """Whether the group or a group below it has ``grading: custom``."""
        return group.config.get("grading") == "custom" or any(self.custom_graded(c) for c in group.children)

    def grader_files(self) -> dict[str, Path]:
        """The custom grader of ``graders/`` as ``{name in the package: file}`` (``group_grader/grader.cpp``
        with its headers, or ``group_grader/grader.py``)."""
        folder = self.root / "graders"
        try:
            files = self.validator_files(folder)
        except PackageError as exc:
            raise PackageError(str(exc).replace("output validators", "graders")) from None
        return {f"group_grader/{'grader' + Path(k).suffix if k.startswith('main.') else k}": v
                for k, v in files.items()}

    def grading_tree(self, data: Path, sample: _Group | None, secret: _Group,
                     subtask_of: dict[str, int], rename: dict[str, str]) -> dict[str, Any]:
        """The ``grading`` of problem.json: the ``data/`` group tree with each group's grading config."""
        legacy = self.meta.get("grading") or {} if not self.new else {}
        if not isinstance(legacy, dict):
            raise PackageError(f"{self.root / 'problem.yaml'}: 'grading' must be a mapping")
        if legacy.get("objective", "max") != "max":
            raise PackageError(f"{self.root / 'problem.yaml'}: grading objective {legacy['objective']!r} is not "
                               "supported (ioi-eval maximises scores)")

        def node(g: _Group, name: str) -> dict[str, Any]:
            conf = dict(g.config)
            for key in ("accept_score", "reject_score", "range"):  # problem.yaml's legacy keys win, as in Kattis
                if legacy.get(key) is not None:
                    conf[key] = legacy[key]
            on_reject = {"first_error": "break", "grade": "continue"}.get(legacy.get("on_reject"),
                                                                          conf.get("on_reject", "break"))
            where = g.path / self.group_file
            if conf.get("grading", "default") not in ("default", "custom"):
                raise PackageError(f"{where}: unknown grading {conf['grading']!r} (default or custom)")
            if on_reject not in ("break", "continue"):
                raise PackageError(f"{where}: unknown on_reject {on_reject!r} (break or continue)")
            flags = str(conf.get("grader_flags") or "").split()
            if "ignore_sample" in flags and name != "data":
                raise PackageError(f"{where}: grader_flags ignore_sample applies only at the top level (data/); "
                                   "a group inherits its parent's flags unless it sets its own grader_flags")
            rng = None
            if conf.get("range") is not None:
                parts = str(conf["range"]).split()
                if len(parts) != 2:
                    raise PackageError(f"{where}: 'range' must be two numbers")
                lo, hi = (_number(x, where, "range") for x in parts)
                rng = None if math.isinf(lo) and math.isinf(hi) else [lo, hi]
            items: list[Any] = []
            for it in g.items:
                if isinstance(it, _Test):
                    test = it.name.replace("/", "-")
                    items.append(rename.get(test, test))
                else:
                    items.append(node(it, f"{name}/{it.path.name}"))
            out: dict[str, Any] = {
                "name": name, "custom": conf.get("grading") == "custom", "flags": flags,
                "accept_score": _number(conf.get("accept_score", 1), where, "accept_score"),
                "reject_score": _number(conf.get("reject_score", 0), where, "reject_score"),
                "on_reject": on_reject, "range": rng, "items": items}
            if g.rel in subtask_of:
                out["subtask"] = subtask_of[g.rel]
            return out

        base = _yaml(data / self.group_file)
        root = _Group(path=data, rel="", config=base, own=base,
                      items=[g for g in (sample, secret) if g is not None])
        return {"protocol": "kattis", "root": node(root, "data")}

    def new_group_scores(self, secret: _Group, groups: list[_Group]) -> list[tuple[_Group, float, str]]:
        """[(group, points, aggregation)] for the 2023-07 and 2025-09 formats (``secret`` alone when
        it is pass-fail: then every secret test must pass for any points)."""
        where = secret.path / self.group_file

        def conf(g: _Group, is_secret: bool) -> tuple[Any, str]:
            own = g.own
            if self.version.startswith("2025"):
                score = own.get("max_score")
                agg = own.get("score_aggregation", "sum" if is_secret else "pass-fail")
            else:
                sc = own.get("scoring") or {}
                score, agg = sc.get("score"), sc.get("aggregation", "sum" if is_secret else "pass-fail")
            return score, str(agg)

        total, secret_agg = conf(secret, True)
        total = 100.0 if total is None else total
        if total == "unbounded":
            raise PackageError(f"{where}: unbounded scores have no CMS equivalent")
        total = _number(total, where, "max score")
        if secret_agg == "min":
            raise PackageError(f"{where}: 'min' aggregation over the groups has no CMS equivalent")
        if groups == [secret] or secret_agg == "pass-fail":
            return [(secret, total, secret_agg)]
        given = [conf(g, False) for g in groups]
        fixed = sum(_number(s, g.path, "max score") for (s, _), g in zip(given, groups, strict=True) if s is not None)
        missing = sum(1 for s, _ in given if s is None)
        if fixed > total + 1e-9:
            raise PackageError(f"{where}: the groups' scores ({fixed:g}) exceed the maximum {total:g}")
        share = (total - fixed) / missing if missing else 0.0
        out: list[tuple[_Group, float, str]] = []
        for (score, agg), g in zip(given, groups, strict=True):
            if score == "unbounded":
                raise PackageError(f"{g.path}: unbounded scores have no CMS equivalent")
            out.append((g, _number(score, g.path, "max score") if score is not None else share, agg))
        return out

    # -- the draft ---------------------------------------------------------------------------
    def draft(self) -> PackageDraft:
        """The whole package: limits, tests, checker or interactor, graders, subtasks, solutions, statement."""
        types = self.types()
        for bad in ("submit-answer", "multi-pass"):
            if bad in types:
                raise PackageError(f"{self.root}: {bad} problems are not supported")
        interactive = "interactive" in types
        scoring = "scoring" in types
        code = safe_code(self.root.name)
        draft = PackageDraft(code=code, name=self.name(), time_limit=self.time_limit(),
                             memory_limit=self.memory_limit(),
                             origin={"format": "kattis", "version": self.version, "path": str(self.root)})
        data = self.root / "data"
        if not (data / "secret").is_dir():
            raise PackageError(f"{data / 'secret'}: missing (a Kattis package keeps its tests in data/secret)")
        base_conf = _yaml(data / self.group_file)
        sample = self.load_group(data / "sample", "sample", base_conf) if (data / "sample").is_dir() else None
        secret = self.load_group(data / "secret", "secret", base_conf)
        if not secret.tests:
            raise PackageError(f"{data / 'secret'}: holds no tests (X.in with X.ans)")

        def tname(t: _Test) -> str:
            return t.name.replace("/", "-")

        all_tests = (sample.tests if sample else []) + secret.tests
        for t in all_tests:
            draft.add_test(tname(t), t.inp, t.ans)

        # Output validation.
        validator = self.validator_dir()
        custom = validator is not None if self.new else str(self.meta.get("validation", "default")).startswith("custom")
        problem_flags = _args(self.meta.get("validator_flags"), self.root / "problem.yaml")
        group_of = {t.name: g for g in self._leaves(secret, sample) for t in g.tests}
        per_test = {tname(t): problem_flags + self.test_args(t, group_of[t.name]) for t in all_tests}
        checker: dict[str, Any]
        if custom:
            if validator is None:
                raise PackageError(f"{self.root}: validation is custom but there is no output_validators/ folder")
            files = self.validator_files(validator)
            folder = "graders" if interactive else "checker"
            main = "manager.cpp" if interactive else "checker.cpp"
            for rel, src in files.items():
                if rel.startswith("main."):
                    rel = main.replace(".cpp", Path(rel).suffix)
                draft.files[f"{folder}/{rel}"] = src
            common = problem_flags + _args(base_conf.get("output_validator_args" if self.new
                                                         else "output_validator_flags"), data)
            checker = {"protocol": "kattis", "args": common,
                       "test_args": {k: v for k, v in per_test.items() if v != common},
                       "score_file": "multiplier" if self.version.startswith("2023") else "absolute"}
        else:
            if interactive:
                raise PackageError(f"{self.root}: an interactive problem needs a custom output validator")
            distinct = {tuple(v) for v in per_test.values()}
            if len(distinct) > 1:
                raise PackageError(f"{self.root}: default-validator flags differ between test groups; "
                                   "ioi-eval applies one standard checker per problem")
            checker = self.default_checker(list(distinct.pop()) if distinct else [])
        draft.checker = checker

        # Task type and graders.
        include = self.root / "include" / "cpp"
        sources = [p for p in walk_files(include) if p.suffix.lower() in CPP_SOURCES] if include.is_dir() else []
        if len(sources) > 1:
            raise PackageError(f"{include}: several C++ sources; ioi-eval compiles one grader file")
        if include.is_dir():
            for p in walk_files(include):
                if p.suffix.lower() in HEADERS:
                    draft.files[f"graders/{p.name}"] = p
        if interactive:
            draft.task_type = Communication.name
            draft.task_params = {"interactor": "kattis", "num_processes": 1, "user_io": "std_io",
                                 "compilation": "stub" if sources else "alone"}
            if sources:
                draft.files["graders/stub.cpp"] = sources[0]
        elif sources:
            draft.files["graders/grader.cpp"] = sources[0]
            draft.task_params = {"compilation": "grader"}

        # Custom graders (Kattis grading: custom).
        groups_custom = any(g.config.get("grading") == "custom" for g in self._all_groups(secret, sample))
        has_graders = (self.root / "graders").is_dir() and any((self.root / "graders").iterdir())
        if has_graders and not scoring:
            raise PackageError(f"{self.root / 'graders'}: a custom grader, but the problem is pass-fail")
        if groups_custom and not has_graders:
            raise PackageError(f"{self.root}: a test data group has grading: custom but graders/ holds no grader")
        if groups_custom and self.new and not self._legacy_keys(self.scoring_groups(secret)):
            raise PackageError(f"{self.root}: grading: custom with {self.version} scoring keys is not supported "
                               "(custom graders go with the legacy testdata.yaml keys)")
        if groups_custom:
            draft.files.update(self.grader_files())

        # Subtasks.
        custom_score = custom and ("scoring-validator" in types or self.new)
        subtasks: list[SubtaskDraft] = []
        if sample and sample.tests:
            subtasks.append(SubtaskDraft("samples", 0.0, [tname(t) for t in sample.tests]))
        if not scoring:
            subtasks.append(SubtaskDraft("secret", 100.0, [tname(t) for t in secret.tests]))
        else:
            subtasks += self.scoring_subtasks(secret, sample, tname, draft, custom_score)
        draft.subtasks = subtasks
        # With graders, a test's maximum only serves to read its score.txt back: merged tests keep the largest.
        self.merge_duplicates(draft, [(tname(t), t) for t in all_tests], per_test,
                              custom_score and checker.get("score_file") == "absolute" and not groups_custom)
        if groups_custom:
            offset = 1 if sample and sample.tests else 0
            subtask_of = {g.rel: i + offset for i, g in enumerate(self.scoring_groups(secret))}
            if offset:
                subtask_of["sample"] = 0
            draft.grading = self.grading_tree(data, sample, secret, subtask_of, draft.origin.get("merged_tests", {}))
            draft.grading["custom_score"] = bool(custom_score)

        # Reference solutions and statement.
        self.add_solutions(draft)
        self.add_statement(draft)
        if self.derive and self.given_time_limit() is None:
            rule = self.time_rule()
            draft.time_limit, draft.origin["derived_time_limit"] = derive_time_limit(draft, rule)
        return draft

    @staticmethod
    def merge_duplicates(draft: PackageDraft, tests: list[tuple[str, _Test]], flags: dict[str, list[str]],
                         by_max: bool) -> None:
        """Run a test once however many groups hold it, as problemtools does: tests with the same input,
        answer and validator flags (symlinks to one file, or copies) become the first one's name in every
        subtask. With ``by_max`` (a validator's ``score.txt`` read against the test's maximum) tests whose
        maxima differ stay apart; otherwise a merged test keeps the largest maximum."""
        test_max = (draft.checker or {}).get("test_max", {})
        first: dict[tuple, str] = {}
        rename: dict[str, str] = {}
        digests: dict[Path, bytes] = {}

        def digest(path: Path) -> bytes:
            real = path.resolve()
            if real not in digests:
                h = hashlib.sha256()
                with real.open("rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                digests[real] = h.digest()
            return digests[real]

        for name, t in tests:
            key = (digest(t.inp), digest(t.ans), tuple(flags[name]), test_max.get(name) if by_max else None)
            rename[name] = first.setdefault(key, name)
        gone = {n for n, c in rename.items() if n != c}
        if not gone:
            return
        for n in gone:
            draft.files.pop(f"tests/{n}.in", None)
            draft.files.pop(f"tests/{n}.out", None)
        for st in draft.subtasks:
            st.tests = list(dict.fromkeys(rename.get(n, n) for n in st.tests))
        for n in gone:
            if n in test_max and rename[n] in test_max:
                test_max[rename[n]] = max(test_max[rename[n]], test_max[n])
        if draft.checker:
            for key in ("test_args", "test_max"):
                if key in draft.checker:
                    draft.checker[key] = {k: v for k, v in draft.checker[key].items() if k not in gone}
        draft.origin["merged_tests"] = {n: rename[n] for n in sorted(gone)}

    @staticmethod
    def _all_groups(secret: _Group, sample: _Group | None, leaves: bool = False) -> list[_Group]:
        """Every group of ``secret`` and ``sample``, depth first (only those holding tests with ``leaves``)."""
        out: list[_Group] = []

        def walk(g: _Group) -> None:
            if g.direct_tests or not leaves:
                out.append(g)
            for c in g.children:
                walk(c)
        walk(secret)
        if sample:
            walk(sample)
        return out

    @classmethod
    def _leaves(cls, secret: _Group, sample: _Group | None) -> list[_Group]:
        """The groups holding tests directly."""
        return cls._all_groups(secret, sample, leaves=True)

    @staticmethod
    def _legacy_keys(groups: list[_Group]) -> bool:
        """A newer-format package that still scores with legacy keys (seen in the wild)."""
        own = [g.own for g in groups]
        new_keys = any(k in o for o in own for k in ("scoring", "max_score", "score_aggregation"))
        return not new_keys and any(k in o for o in own for k in ("accept_score", "grader_flags"))

    def scoring_subtasks(self, secret: _Group, sample: _Group | None, tname, draft: PackageDraft,
                         custom_score: bool) -> list[SubtaskDraft]:
        """One subtask per scoring group (legacy or 2023-07/2025-09 keys); records each test's maximum score
        for a Kattis-protocol validator's ``score.txt``."""
        groups = self.scoring_groups(secret)
        test_max: dict[str, float] = {}
        subtasks: list[SubtaskDraft] = []
        if not self.new or self._legacy_keys(groups):
            for g in groups:
                points, score_type, per_test = self.legacy_group(g, custom_score)
                names = [tname(t) for t in g.tests]
                test_max.update({n: per_test for n in names})
                subtasks.append(SubtaskDraft(g.rel.split("/")[-1], points, names, score_type))
        else:
            by_rel = {g.rel: g for g in groups}
            for g, points, agg in self.new_group_scores(secret, groups):
                names = [tname(t) for t in g.tests]
                if agg not in ("pass-fail", "sum", "min"):
                    raise PackageError(f"{g.path}: unknown score aggregation {agg!r}")
                test_max.update({n: points / len(names) if agg == "sum" else points for n in names})
                own = g.own
                needs = own.get("require_pass", (own.get("scoring") or {}).get("require-pass", []))
                needs = [needs] if isinstance(needs, str) else list(needs or [])
                extra: list[str] = []
                for dep in needs:
                    dep_rel = dep if dep == "sample" or dep.startswith("secret") else f"secret/{dep}"
                    dep_group = sample if dep_rel == "sample" else by_rel.get(dep_rel)
                    if dep_group is None:
                        raise PackageError(f"{g.path}: require_pass names an unknown group {dep!r}")
                    extra += [tname(t) for t in dep_group.tests if tname(t) not in extra]
                if agg == "sum" and extra:
                    raise PackageError(f"{g.path}: require_pass on a sum-aggregated group has no CMS equivalent")
                subtasks.append(SubtaskDraft(g.rel.split("/")[-1], points, extra + names,
                                             "Sum" if agg == "sum" else None))
        if sample:  # the samples are worth no points: a score.txt there is no error
            test_max.update({n: 0.0 for n in (tname(t) for t in sample.tests) if n not in test_max})
        if draft.checker and draft.checker.get("protocol") == "kattis":
            draft.checker["test_max"] = test_max
        return subtasks

    def add_solutions(self, draft: PackageDraft) -> None:
        """C++ and Python submissions of ``submissions/<verdict>/`` (the first accepted C++ one is the model)."""
        folder = self.root / "submissions"
        if not folder.is_dir():
            return
        has_model = False
        for cat_dir in sorted(d for d in folder.iterdir() if d.is_dir()):
            category = SUBMISSION_CATEGORIES.get(cat_dir.name)
            if category is None:
                continue
            for src in sorted(cat_dir.iterdir()):
                suffix = src.suffix.lower()
                if not src.is_file() or suffix not in (".cpp", ".cc", ".cxx", ".py"):
                    continue
                cat = category
                if category == "correct" and not has_model and suffix != ".py":
                    cat, has_model = "model_solution", True
                name = get_language(language_of(src)).source_name(src.stem)
                draft.files[f"solutions/{cat}/{name}"] = src

    def add_statement(self, draft: PackageDraft) -> None:
        """The English (or only) Markdown or LaTeX statement as ``statement.md``."""
        for folder in ("statement", "problem_statement"):
            for pattern in ("problem.en.md", "problem.md", "problem.en.tex", "problem.tex"):
                p = self.root / folder / pattern
                if p.is_file():
                    draft.files["statement.md"] = p
                    return


def is_kattis_problem(path: Path) -> bool:
    """A folder holding ``problem.yaml`` and ``data/``."""
    return (path / "problem.yaml").is_file() and (path / "data").is_dir()


class KattisSource:
    """Kattis problem packages: one package folder, a folder of them, or a ``.zip`` of either.

    ``kattis:PATH?time_limit=derive`` derives the time limit of a package that gives none from its accepted
    submissions, as problemtools does (:mod:`ioi_eval.sources.timelimit`), once: the import is cached.
    """

    def __init__(self, path: str | Path) -> None:
        self.spec = str(path)
        self.derive = False
        text = str(path)
        head, sep, query = text.rpartition("?")
        if sep and "=" in query and not Path(text).exists():
            options = dict(parse_qsl(query, keep_blank_values=True))
            unknown = set(options) - {"time_limit"}
            if unknown or options.get("time_limit") != "derive":
                raise SourceError(f"{text}: unknown Kattis option {query!r} (the one option is time_limit=derive)")
            self.derive, text = True, head
        self.path = Path(text)

    def problem_roots(self) -> list[Path]:
        """The Kattis package folders under the path."""
        return package_roots(self.path, is_kattis_problem,
                             "Kattis problem package (a folder with problem.yaml and data/)")

    def packages(self) -> list[Path]:
        """Each problem imported (once, cached by content) as a CMS-layout package."""
        return [materialise(root, "kattis", lambda r: KattisImporter(r, self.derive).draft())
                for root in self.problem_roots()]


def detect(path: Path) -> KattisSource | None:
    """A :class:`KattisSource` for a Kattis package, a folder of them, or a zip of one."""
    return KattisSource(path) if holds_packages(path, "problem.yaml", is_kattis_problem) else None
