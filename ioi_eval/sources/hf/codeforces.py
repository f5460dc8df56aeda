"""``open-r1/codeforces`` problems written as single-subtask CMS-layout packages scored the Codeforces way.

Each problem becomes a Batch package with one subtask holding every test (GroupMin, 1 point: solved
or not) and ``"scoring": "codeforces"`` so runs report solved / pass@k / partial fraction. Tests are
the row's ``official_tests`` plus the generated tests of ``test_cases_<contest:04d>.parquet``
(columns ``problem_id``, ``input``, ``output``). ``input_mode: file`` becomes Batch with
``input.txt``/``output.txt``. Limits: ``time_limit`` in seconds, ``memory_limit`` in MB. Contestant
C++ is compiled with ``-DONLINE_JUDGE`` as on Codeforces.

A ``generated_checker`` (Python) is run as open-r1 runs it, ``python3 checker.py input answer
output`` with both outputs stripped of ``\\r`` and empty lines, passing when it prints ``1`` or ``100``
and exits 0, wrapped in ``checker/checker.py`` so our judge runs it under the CMS checker protocol.
Without one, outputs are compared token by token (strict); ``--judge-profile codeforces`` compares
them as open-r1 does (yes/no in any case).
"""

from __future__ import annotations

import functools
import json
import os
import re
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

from ...errors import PackageError, SourceError
from ...judge.task_types import Batch
from ...problem import limits
from ...problem.writer import check_code, write_file, write_json
from .spec import HfSpec, option_int, option_list
from .tables import FilesTable, Table, hub_offline

MAIN_COLUMNS = ["id", "contest_id", "contest_name", "index", "title", "time_limit", "memory_limit", "description",
                "input_format", "output_format", "interaction_format", "note", "examples", "official_tests",
                "input_mode", "generated_checker", "prompt", "language", "rating", "tags"]
GENERATED_DIR = "generated_tests"

CHECKER_WRAPPER = r'''"""CMS-protocol wrapper (written by ioi-eval) around a Codeforces problem's generated checker.

Runs the checker as open-r1's Piston package does: ``python3 checker.py input answer output``,
with carriage returns removed from the input and answer and empty lines from both outputs, a 10 s
limit, and a pass when it prints 1 or 100 and exits 0. Prints the CMS outcome: the score on stdout, a message on stderr.
"""
import os
import subprocess
import sys
import tempfile

CHECKER = {source!r}


def lines(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")


def clean_input(path):  # sed 's/\r$//'
    return b"\n".join(line.removesuffix(b"\r") for line in lines(path))


def clean_answer(path):  # echo "$(cat)", sed 's/\r$//', sed '/^$/d'
    kept = [line.removesuffix(b"\r") for line in lines(path)]
    return b"".join(line + b"\n" for line in kept if line)


def clean_output(path):  # sed '/^$/d'
    kept = lines(path)
    if kept and kept[-1] == b"":
        kept.pop()
    return b"".join(line + b"\n" for line in kept if line)


def main():
    inp, ans, out = sys.argv[1:4]
    tmp = tempfile.mkdtemp()
    try:
        paths = []
        for name, path, clean in (("input", inp, clean_input), ("answer", ans, clean_answer),
                                  ("output", out, clean_output)):
            p = os.path.join(tmp, name)
            with open(p, "wb") as f:
                f.write(clean(path))
            paths.append(p)
    except OSError:  # no room for cleaned copies: give the checker the files as they are
        paths = [inp, ans, out]
    try:
        run = subprocess.run([sys.executable, "-c", CHECKER, *paths], capture_output=True, timeout=10)
    except subprocess.TimeoutExpired:
        print(0)
        print("Output isn't correct (the checker timed out)", file=sys.stderr)
        return
    verdict = run.stdout.decode(errors="replace").strip()
    if run.returncode == 0 and verdict in ("1", "100"):
        print(1)
        print("Output is correct", file=sys.stderr)
    else:
        detail = f"checker printed {{verdict[:40]!r}}, exit code {{run.returncode}}"
        err = run.stderr.decode(errors="replace").strip().splitlines()
        if run.returncode != 0 and err:
            detail += f": {{err[-1][:200]}}"
        print(0)
        print(f"Output isn't correct ({{detail}})", file=sys.stderr)


main()
'''


def _tests_of(value: Any) -> list[dict[str, Any]]:
    """``official_tests`` as a list of ``{"input", "output"}`` (a list, or a JSON string of one)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return [t for t in value if isinstance(t, dict)]


def problem_code(row: dict[str, Any]) -> str:
    """``cf<contest><index>``, e.g. ``cf1234A``."""
    if row.get("contest_id") is not None and row.get("index"):
        return f"cf{row['contest_id']}{row['index']}"
    return "cf" + re.sub(r"[^A-Za-z0-9]", "", str(row.get("id") or ""))


def statement(row: dict[str, Any]) -> str:
    """A Markdown statement from the row's parts."""
    parts = [f"# {row.get('title') or row.get('id')}",
             f"time limit per test: {row.get('time_limit')} seconds; memory limit per test: "
             f"{row.get('memory_limit')} megabytes",
             str(row.get("description") or "")]
    for title, key in (("Input", "input_format"), ("Output", "output_format"), ("Interaction", "interaction_format")):
        if row.get(key):
            parts.append(f"## {title}\n\n{row[key]}")
    for i, ex in enumerate(row.get("examples") or [], 1):
        if isinstance(ex, dict):
            parts.append(f"## Example {i}\n\nInput:\n```\n{ex.get('input', '')}\n```\n\n"
                         f"Output:\n```\n{ex.get('output', '')}\n```")
    if row.get("note"):
        parts.append(f"## Note\n\n{row['note']}")
    return "\n\n".join(p.strip() for p in parts if p.strip()) + "\n"


class CodeforcesMaterialiser:
    """Writes the problems of an open-r1 Codeforces split as packages."""

    def __init__(self, spec: HfSpec, table: Table) -> None:
        self.spec = spec
        self.table = table
        self.ids = set(option_list(spec.options, "ids") or [])
        self.limit = option_int(spec.options, "limit")
        self._rows: dict[str, dict[str, Any]] | None = None
        self._prompts: dict[str, dict[str, str]] = defaultdict(dict)

    def rows(self) -> dict[str, dict[str, Any]]:
        """One row per problem id (``verifiable-prompts`` has one per language: their prompts are kept)."""
        if self._rows is None:
            rows: dict[str, dict[str, Any]] = {}
            skipped = 0
            for row in self.table.rows(MAIN_COLUMNS):
                pid = str(row.get("id") or "")
                if self.ids and pid not in self.ids:
                    continue
                if row.get("prompt"):
                    self._prompts[pid][str(row.get("language") or "prompt")] = row["prompt"]
                if pid in rows:
                    continue
                if row.get("interaction_format"):  # interactive: no interactor in the data
                    skipped += 1
                    continue
                if self.limit is not None and len(rows) >= self.limit:
                    continue
                rows[pid] = row
            if skipped:
                warnings.warn(f"{self.spec.dataset}: skipped {skipped} interactive problem(s) (no interactor)",
                              stacklevel=2)
            if self.ids - set(rows):
                raise SourceError(f"{self.spec.dataset}: no (non-interactive) problems "
                                  f"{', '.join(sorted(self.ids - set(rows)))}")
            self._rows = rows
        return self._rows

    # -- generated tests -----------------------------------------------------------------------
    @functools.cached_property
    def _generated_folder(self) -> Path | None:
        """The folder of generated-test Parquet files (looked up once: it is needed per contest)."""
        ref = self.spec.options.get("generated") or os.environ.get("CF_TESTS_FOLDER")
        if ref:
            path = Path(ref).expanduser()
            if not path.is_dir():
                raise SourceError(f"{ref}: the generated tests folder does not exist")
            return path
        if self.spec.is_local:
            main = Path(self.spec.dataset).expanduser().resolve()
            for folder in [main, *main.parents][:4]:
                if (folder / GENERATED_DIR).is_dir():
                    return folder / GENERATED_DIR
        return None

    def _generated_file(self, contest: int) -> Path | None:
        name = f"test_cases_{contest:04d}.parquet"
        folder = self._generated_folder
        if folder is not None:
            return folder / name if (folder / name).is_file() else None
        if self.spec.is_local:
            return None
        return hub_file(self.spec.dataset, f"{GENERATED_DIR}/{name}")

    def key_parts(self) -> dict[str, Any]:
        """Everything the packages depend on."""
        folder = self._generated_folder
        gen = FilesTable("generated", sorted(folder.glob("*.parquet"))).fingerprint if folder else None
        return {"main": self.table.fingerprint, "spec": [self.spec.dataset, self.spec.config, self.spec.split],
                "options": self.spec.options, "generated": gen}

    # -- output --------------------------------------------------------------------------------
    def write(self, root: Path) -> list[str]:
        """Write every package under ``root``; returns the problem codes."""
        by_contest: dict[int, list[str]] = defaultdict(list)
        for pid, row in self.rows().items():
            try:
                by_contest[int(row["contest_id"]) if row.get("contest_id") is not None else -1].append(pid)
            except (TypeError, ValueError):
                raise SourceError(f"{self.spec.dataset}: {pid}: bad contest_id {row.get('contest_id')!r}") from None
        codes = []
        no_generated = 0
        for contest in sorted(by_contest):
            generated: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
            gen_file = self._generated_file(contest) if contest >= 0 else None
            if gen_file is None:
                no_generated += 1
            else:
                wanted = set(by_contest[contest])
                for t in FilesTable(gen_file.name, [gen_file]).rows(["problem_id", "input", "output"]):
                    if t.get("problem_id") in wanted:
                        generated[t["problem_id"]].append((t.get("input"), t.get("output")))
            for pid in by_contest[contest]:
                try:
                    code = self._write_problem(root, self.rows()[pid], generated.get(pid, []))
                except (KeyError, TypeError, ValueError, AttributeError, PackageError) as exc:
                    raise SourceError(f"{self.spec.dataset}: problem {pid}: malformed row ({type(exc).__name__}: "
                                      f"{exc})") from None
                if code:
                    codes.append(code)
        if no_generated:
            warnings.warn(f"{self.spec.dataset}: no generated tests for {no_generated} contest(s): "
                          "official tests only (give ?generated=<folder> or $CF_TESTS_FOLDER)", stacklevel=2)
        return codes

    def _write_problem(self, root: Path, row: dict[str, Any], generated: list[tuple[Any, Any]]) -> str | None:
        pid = str(row.get("id"))
        code = check_code(problem_code(row), f"{self.spec.dataset}: {pid}")
        official = _tests_of(row.get("official_tests"))
        if not official and not generated:
            warnings.warn(f"{pid}: no tests at all, left out", stacklevel=2)
            return None
        folder = root / code
        names = []
        for prefix, tests in (("official", [(t.get("input"), t.get("output")) for t in official]),
                              ("generated", generated)):
            for i, (inp, out) in enumerate(tests, 1):
                name = f"{prefix}-{i:03d}"
                write_file(folder, f"tests/{name}.in", inp)
                write_file(folder, f"tests/{name}.out", out)
                names.append(name)
        file_mode = str(row.get("input_mode") or "stdio") == "file"
        problem: dict[str, Any] = {
            "protocol_version": 1, "code": code, "name": f"{pid} {row.get('title') or ''}".strip(),
            "time_limit": limits.time_limit(row.get("time_limit") or 1.0, f"{self.spec.dataset}: {pid}"),
            "memory_limit": limits.memory_limit(row.get("memory_limit") or 256, f"{self.spec.dataset}: {pid}",
                                                unit=1 << 20),
            "score_precision": 2, "task_type": Batch.name,
            "task_type_params": {"input_file": "input.txt", "output_file": "output.txt"} if file_mode else {},
            "scoring": "codeforces", "defines": ["ONLINE_JUDGE"],
            "source": {"dataset": self.spec.dataset, "config": self.spec.config, "split": self.spec.split,
                       "id": pid, "rating": row.get("rating"), "tags": list(row.get("tags") or []),
                       "official_tests": len(official), "generated_tests": len(generated)},
        }
        checker = row.get("generated_checker")
        if checker:
            write_file(folder, "checker/checker.py", CHECKER_WRAPPER.format(source=checker))
            write_file(folder, "checker/generated_checker.py", checker)  # the original, for reading
        else:
            problem["checker"] = {"standard": "tokens"}
        write_json(folder, "problem.json", problem)
        write_json(folder, "subtasks/01-all.json", {"score": 1, "testcases": names})
        write_file(folder, "statement.md", statement(row))
        for language, prompt in self._prompts.get(pid, {}).items():
            write_file(folder, f"prompts/{language}.md", prompt)
        return code


def hub_file(repo: str, filename: str) -> Path | None:
    """A file of a Hub dataset repo through the hub cache (offline: only if cached); None if absent."""
    try:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError
    except ImportError:
        raise SourceError("downloading generated tests needs huggingface_hub (pip install 'ioi-eval[hf]')") from None
    try:
        return Path(hf_hub_download(repo, filename, repo_type="dataset", local_files_only=hub_offline()))
    except (EntryNotFoundError, LocalEntryNotFoundError):
        return None
    except Exception as exc:  # network or auth failures name the file
        raise SourceError(f"cannot fetch {filename} from the Hub dataset {repo}: {type(exc).__name__}: {exc}") from None
