"""Building chat prompts for a problem (or one of its subtasks) from Jinja2 templates.

A template renders its messages with ``{% call message("system") %}…{% endcall %}`` and
``{% call message("user") %}…{% endcall %}``; text outside these calls is ignored, and a template with
no ``message`` call at all is taken as the user message. An empty message is left out (so a template
may drop the system message, as some reasoning models recommend). Templates may
``{% import "_ioi.j2" as ioi with context %}`` to reuse the sections of the default ones.

Variables available to templates (see :func:`prompt_context`):

- ``problem``: ``code``, ``name``, ``task_type`` (a name of ``ioi_eval.judge.task_types.TASK_TYPES``),
  ``max_score``, ``scoring`` (``ioi``/``codeforces``).
- ``source_prompt``: the dataset's own prompt a source kept in ``prompts/`` (``<subtask>.md``,
  ``<language>.md``), or None (see ``templates/source.j2``).
- ``statement``: the text of ``statement.md``, or None when the package has none.
- ``time_limit`` (seconds), ``time_limit_text`` (``"1 second"``), ``memory_limit_mib``,
  ``memory_limit_text`` (``"256 MiB"``).
- ``kind``: how the submission runs: ``program`` (reads the input itself: stdin or
  ``input_file``), ``grader`` (functions called by a grader that has ``main``), ``communication``
  (functions linked with a stub, talking to a manager), ``interactive`` (a whole program talking to
  a manager over stdin/stdout) or ``output_only`` (a program run on each input file); the task type
  says which (:meth:`~ioi_eval.judge.task_types.TaskType.prompt_notes`).
- ``input_file``, ``output_file`` (empty for standard input/output), ``num_processes``.
- ``language``: ``name`` (``cpp``/``python``), ``display`` (``C++17``), ``fence`` (``cpp``).
- ``subtasks``: a list of ``number``, ``name``, ``points``, ``is_samples``, ``is_full`` (its tests
  include every test: the general problem), ``is_target``;
  ``target``: the targeted one or None (a whole-problem prompt).
- ``header``: ``path`` and ``content`` of ``graders/<code>.h``, or None; ``starting_code``: the same
  for a skeleton the package ships, or None; ``grader_calls``: the names a Python grader or stub
  uses from the submission's module; ``module``: the name the submission is compiled or imported as.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import jinja2

from ..errors import PromptError
from ..judge.languages import LANGUAGES, Language, find_language
from ..judge.task_types import PromptNotes, get_task_type
from ..problem.model import Problem, Subtask

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MAX_SHOWN_FILE_CHARS = 20_000  # a header or skeleton longer than this is cut (and says so)
_PRIVATE_HEADERS = ("testlib.h",)


def _language(language: str) -> Language:
    lang = find_language(language)
    if lang is None:
        raise PromptError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    return lang


def default_template(language: str, scoring: str = "ioi") -> Path:
    """The template shipped for ``language``: ``templates/ioi_<language>.j2``, or
    ``templates/codeforces.j2`` for problems scored the Codeforces way."""
    if scoring == "codeforces":
        return TEMPLATES_DIR / "codeforces.j2"
    return TEMPLATES_DIR / f"ioi_{_language(language).name}.j2"


def resolve_template(template: Path | str | None) -> Path | None:
    """A template file, or the name of one shipped in ``templates/`` (e.g. ``source``)."""
    if template is None:
        return None
    path = Path(template)
    shipped = TEMPLATES_DIR / f"{template}.j2"
    return shipped if not path.is_file() and path.parent == Path(".") and shipped.is_file() else path


def _source_prompt(problem: Problem, subtask: Subtask | None, lang: Language) -> str | None:
    """The dataset's own prompt kept by a source in ``prompts/``: per subtask (open-r1 IOI) or per
    language (open-r1 Codeforces ``verifiable-prompts``)."""
    names = ([subtask.name] if subtask is not None else []) + [lang.name, "prompt"]
    for name in names:
        p = problem.root / "prompts" / f"{name}.md"
        if p.is_file():
            return p.read_text(encoding="utf-8", errors="replace").strip()
    return None


def _notes(problem: Problem, language: str) -> PromptNotes:
    """The task type's part of the prompt: how a submission in ``language`` runs."""
    return get_task_type(problem.task_type).prompt_notes(problem, language)


def supported_languages(problem: Problem) -> tuple[str, ...]:
    """The languages a submission to ``problem`` can be judged in.

    C++ always; Python unless the submission is linked with a grader or stub that the package
    ships only in C++ (``graders/grader.py`` / ``graders/stub.py`` missing).
    """
    notes = _notes(problem, "python")
    if notes.harness is not None and notes.harness_file is None:
        return ("cpp",)
    return ("cpp", "python")


def _read_shown(path: Path, root: Path) -> dict[str, str] | None:
    """``path`` (relative to the package) and its text, cut at :data:`MAX_SHOWN_FILE_CHARS`."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    text = text.replace("\r\n", "\n").strip("\n")
    if len(text) > MAX_SHOWN_FILE_CHARS:
        text = text[:MAX_SHOWN_FILE_CHARS] + "\n// … (cut)"
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.name
    return {"path": rel, "content": text}


def _header(problem: Problem) -> dict[str, str] | None:
    """``graders/<code>.h``, or else the package's only other header (testlib.h aside)."""
    own = problem.grader(f"{problem.code}.h")
    if own is None:
        others = sorted(p for p in problem.grader_files if p.suffix == ".h" and p.name not in _PRIVATE_HEADERS)
        own = others[0] if len(others) == 1 else None
    return _read_shown(own, problem.root) if own is not None else None


def _starting_code(problem: Problem, lang: Language) -> dict[str, str] | None:
    """A skeleton the package ships for the contestant: ``graders/<code><suffix>`` or ``attachments/…``."""
    for folder in ("graders", "attachments"):
        p = problem.root / folder / lang.source_name(problem.code)
        if p.is_file():
            return _read_shown(p, problem.root)
    return None


def _python_calls(problem: Problem) -> list[str]:
    """Names that ``graders/grader.py`` or ``graders/stub.py`` takes from the submission's module."""
    path = _notes(problem, "python").harness_file
    if path is None:
        return []
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return []
    names: dict[str, None] = {}
    aliases = {problem.code}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == problem.code:
            for alias in node.names:
                if alias.name != "*":
                    names.setdefault(alias.name, None)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == problem.code:
                    aliases.add(alias.asname or alias.name)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases):
            names.setdefault(node.attr, None)
    return list(names)


def _number(value: float) -> int | float:
    """``20.0`` → ``20``; other values unchanged (for display)."""
    return int(value) if float(value).is_integer() else value


def _time_text(seconds: float) -> str:
    n = _number(round(seconds, 3))
    return f"{n} second" if n == 1 else f"{n} seconds"


def _subtask_rows(problem: Problem, target: Subtask | None) -> list[dict[str, Any]]:
    """The subtasks as IOI statements number them: from 0 when the first is the 0-point samples."""
    base = 0 if problem.subtasks and problem.subtasks[0].points == 0 else 1
    every_test = set(problem.test_order())
    return [{"number": st.index + base, "name": st.name, "points": _number(st.points),
             "is_samples": st.points == 0, "is_full": st.points > 0 and set(st.tests) >= every_test,
             "is_target": target is not None and st.name == target.name}
            for st in problem.subtasks]


def prompt_context(problem: Problem, subtask: Subtask | None, language: str) -> dict[str, Any]:
    """The variables the templates see (described in this module's docstring)."""
    lang = _language(language)
    notes = _notes(problem, lang.name)
    if lang.name not in supported_languages(problem):
        raise PromptError(f"{problem.code}: no graders/{notes.harness}.py in the package, so it cannot be solved "
                          f"in {lang.display}; languages: {', '.join(supported_languages(problem))}")
    if subtask is not None and not any(st.name == subtask.name for st in problem.subtasks):
        raise PromptError(f"{problem.code}: no subtask named {subtask.name!r}")
    rows = _subtask_rows(problem, subtask)
    mib = problem.memory_limit / (1 << 20)
    mib_shown = _number(round(mib, 1))
    return {
        "problem": {"code": problem.code, "name": problem.name, "task_type": problem.task_type,
                    "max_score": _number(problem.max_score), "scoring": problem.scoring},
        "source_prompt": _source_prompt(problem, subtask, lang),
        "statement": problem.statement.replace("\r\n", "\n").strip() if problem.statement else None,
        "time_limit": problem.time_limit,
        "time_limit_text": _time_text(problem.time_limit),
        "memory_limit_mib": mib_shown,
        "memory_limit_text": f"{mib_shown} MiB",
        "kind": notes.kind,
        "input_file": notes.input_file,
        "output_file": notes.output_file,
        "num_processes": notes.num_processes,
        "language": {"name": lang.name, "display": lang.display, "fence": lang.name},
        "subtasks": rows,
        "target": next((r for r in rows if r["is_target"]), None),
        "header": _header(problem) if notes.show_header else None,
        "starting_code": _starting_code(problem, lang),
        "grader_calls": _python_calls(problem) if lang.name == "python" else [],
        "module": problem.code,
    }


def _environment(template: Path) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(template.parent))]
    if template.parent.resolve() != TEMPLATES_DIR:
        loaders.append(jinja2.FileSystemLoader(str(TEMPLATES_DIR)))
    return jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
                              autoescape=False)


_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _tidy(text: str) -> str:
    """Trim a rendered message: no trailing spaces on lines, no runs of blank lines outside code."""
    lines = [line.rstrip() for line in text.strip().split("\n")]
    out: list[str] = []
    in_code = False
    for line in lines:
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if not line and not in_code and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out)


def build_prompt(problem: Problem, subtask: Subtask | None, language: str,
                 template: Path | None = None) -> list[dict[str, str]]:
    """The chat messages asking for a ``language`` solution to ``problem``.

    ``subtask`` is the targeted subtask (None: the whole problem). ``template`` is a Jinja2 file
    overriding the default ``templates/ioi_<language>.j2``. Returns ``[{"role": "system", ...},
    {"role": "user", ...}]`` (a template may leave out the system message).
    """
    context = prompt_context(problem, subtask, language)
    path = resolve_template(template) or default_template(language, problem.scoring)
    if not path.is_file():
        raise PromptError(f"{path}: prompt template not found")
    messages: list[dict[str, str]] = []

    def message(role: str, caller: Any = None) -> str:
        if role not in ("system", "user", "assistant"):
            raise PromptError(f"{path}: message role must be system, user or assistant, not {role!r}")
        content = _tidy(str(caller())) if caller is not None else ""
        if content:
            messages.append({"role": role, "content": content})
        return ""

    env = _environment(path)
    try:
        tmpl = env.get_template(path.name)
        rendered = tmpl.render(**context, message=message)
    except jinja2.TemplateError as exc:
        where = f"{exc.filename or path}:{exc.lineno}" if isinstance(exc, jinja2.TemplateSyntaxError) else str(path)
        raise PromptError(f"{where}: prompt template error: {exc.message or exc}") from None
    if not messages:
        content = _tidy(rendered)
        if content:
            messages.append({"role": "user", "content": content})
    if not any(m["role"] == "user" for m in messages):
        raise PromptError(f"{path}: the template produced no user message")
    return messages
