"""Taking the submission out of a model's completion.

Rules, in order:

1. ``\\r\\n`` (and a lone ``\\r``) become ``\\n``.
2. Reasoning is dropped: everything up to the last ``</think>`` (or ``</thinking>``). A ``<think>``
   that is never closed (before any code fence) means the model never got to its answer: no code.
3. Fenced blocks (```` ``` ```` or ``~~~``, three or more, any indentation) are found line by line.
   The last complete block whose tag names the language wins (C++: ``cpp``, ``c++``, ``cc``,
   ``cxx``, ``cpp17``…; Python: ``python``, ``py``, ``python3``…; case-insensitive). If there is
   none, an unclosed final block with that tag (the model stopped before the closing fence: its
   text up to the end), then the last untagged block that looks like the language (``#include`` /
   ``int main`` for C++, ``def`` / ``import`` for Python). Tolerated: a tagged opening fence at the
   end of a prose line (``Here: ```cpp``) and a closing fence glued to the last line of code.
4. No fence at all: the whole answer, when its first line looks like the language (or opens a comment) and
   the answer as a whole does too: bare code, as EvalPlus's sanitized solutions, LiveCodeBench's ``code_list``
   and base models give it.
5. C++ for a problem with a header ``graders/<code>.h``: ``#include "<code>.h"`` is added at the
   top when the code does not include it.

No completion raises: one without usable code gives ``status="no_code"`` and ``code=None``. The
scan is linear (no regular expression that can backtrack across the text): 10 MB of junk takes
about 0.1 s, and even text made only of fence lines about 1 µs a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, NamedTuple

from ..judge.languages import LANGUAGES, Language, find_language
from ..judge.task_types import TASK_TYPES
from ..problem.model import Problem

_FENCE_LINE = re.compile(r"^[ \t]*([`~]{3,})([^\n]*)", re.MULTILINE)
_TAG_WORD = re.compile(r"[A-Za-z][\w+#.\-]{0,31}")
_THINK_OPEN = ("<think>", "<thinking>")
_THINK_CLOSE = ("</think>", "</thinking>")


@dataclass(frozen=True)
class Extraction:
    """The code taken from a completion (``code`` is None when ``status`` is ``no_code``)."""

    code: str | None
    status: Literal["ok", "no_code"]
    note: str = ""

    @property
    def ok(self) -> bool:
        """Whether code was found."""
        return self.status == "ok"


class _Block(NamedTuple):
    """A fenced block: its tag and the offsets of its body in the text."""

    tag: str
    start: int
    end: int
    closed: bool


def _no_code(note: str) -> Extraction:
    return Extraction(code=None, status="no_code", note=note)


def _language(language: str) -> Language:
    lang = find_language(language)
    if lang is None:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    return lang


def _tag_of(info: str) -> str:
    """The language tag of a fence's info string: ``{.cpp title="x"}`` → ``cpp``."""
    info = info.strip().lstrip("{").lstrip(".").strip()
    word = info.split(maxsplit=1)[0] if info else ""
    return word.rstrip("}").rstrip(",;:").lower()


def _glued_close(text: str, ch: str, n: int, start: int, stop: int) -> int:
    """Where a closing fence glued to the end of a code line (``}`` then the fence) starts, or -1.

    Only ``text[start:stop]`` is searched, one line at a time (linear in its length).
    """
    closing = ch * n
    pos = text.find(closing, start, stop)
    while pos != -1:
        eol = text.find("\n", pos, stop)
        eol = stop if eol == -1 else eol
        rest = text[pos:eol].rstrip()
        if rest.endswith(closing):
            cut = pos + len(rest) - n
            if cut > 0 and text[cut - 1] not in (ch, "\n"):
                return cut
        pos = text.find(closing, eol, stop)
    return -1


def _glued_open(text: str, start: int, stop: int) -> tuple[str, int, int] | None:
    """An opening fence with a tag at the end of a prose line (``Code: ```cpp``) in ``text[start:stop]``.

    Returns the tag, the fence length and where the body starts, or None. Linear, like :func:`_glued_close`.
    """
    pos = text.find("```", start, stop)
    while pos != -1:
        eol = text.find("\n", pos, stop)
        eol = stop if eol == -1 else eol
        rest = text[pos:eol].rstrip()
        k = len(rest) - len(rest.lstrip("`"))
        if pos > 0 and text[pos - 1] != "`" and _TAG_WORD.fullmatch(rest, k):
            return rest[k:].lower(), k, min(eol + 1, len(text))
        pos = text.find("```", eol, stop)
    return None


def _line_end(text: str, pos: int) -> int:
    """The offset just after the line holding ``pos``."""
    eol = text.find("\n", pos)
    return len(text) if eol == -1 else eol + 1


def find_blocks(text: str) -> list[_Block]:
    """The non-empty fenced blocks of ``text`` (``\\n``-normalised), the last one possibly unclosed.

    A fence is a line of three or more backticks or tildes (any indentation) with an optional
    info string; the block ends at a line holding only a run of the same character at least as
    long. Tolerated: a tagged opening fence at the end of a prose line, and a closing fence glued
    to the end of the last line of code. Every part of the text is scanned once (linear time).
    """
    blocks: list[_Block] = []
    tags: dict[str, str] = {}  # info string -> tag (long outputs repeat the same few)
    is_open = False
    ch, n, tag, body = "", 0, "", 0
    pos = 0  # the text before pos is dealt with

    def add(end: int, closed: bool) -> None:
        if end > body and not text[body:end].isspace():
            blocks.append(_Block(tag, body, end, closed))

    def glued_events(stop: int) -> None:
        """Glued opens and closes between pos and stop (a region with no fence line)."""
        nonlocal is_open, ch, n, tag, body, pos
        while pos < stop:
            if is_open:
                cut = _glued_close(text, ch, n, pos, stop)
                if cut < 0:
                    break
                add(cut, True)
                is_open = False
                pos = min(_line_end(text, cut), stop)
            else:
                found = _glued_open(text, pos, stop)
                if found is None:
                    break
                tag, n, body = found
                ch, is_open, pos = "`", True, body

    for m in _FENCE_LINE.finditer(text):
        line_start = m.start()
        glued_events(line_start)
        pos = _line_end(text, m.end())
        run, rest = m.groups()
        k = len(run) - len(run.lstrip(run[0]))  # [`~]{3,} may mix the two characters
        if k < 3:
            continue
        fence_ch, info = run[0], run[k:] + rest
        if is_open:
            if fence_ch == ch and k >= n and not info.strip():
                add(line_start, True)
                is_open = False
            continue  # otherwise a fence-like line inside the block is code
        if fence_ch == "`" and "`" in info:
            continue  # ```inline``` on one line, not a fence
        is_open = True
        tag = tags.get(info)
        if tag is None:
            tag = _tag_of(info)
            if len(tags) < 4096:
                tags[info] = tag
        ch, n, body = fence_ch, k, pos
    glued_events(len(text))
    if is_open:
        add(len(text), False)
    return blocks


def _strip_reasoning(text: str) -> tuple[str | None, str]:
    """The answer part of ``text``, or None when the reasoning never ended; and a note."""
    close_at = max(text.rfind(tag) for tag in _THINK_CLOSE)
    if close_at >= 0:
        end = text.index(">", close_at) + 1
        return text[end:], "reasoning removed"
    open_at = min((i for i in (text.find(tag) for tag in _THINK_OPEN) if i >= 0), default=-1)
    if open_at >= 0:
        fence = min((i for i in (text.find("```"), text.find("~~~")) if i >= 0), default=len(text))
        if open_at < fence:
            return None, "unclosed <think>: the reasoning never ended"
    return text, ""


def _add_header(code: str, lang: Language, problem: Problem | None) -> tuple[str, str | None]:
    """The code including the task's own header (``<code>.h``) when the problem has one, the language
    includes headers and the code lacks it; and the header added, if any."""
    if problem is None or not lang.header_suffixes or not TASK_TYPES[problem.task_type].takes_code:
        return code, None
    header = f"{problem.code}{lang.header_suffixes[0]}"
    if problem.grader(header) is None:
        return code, None
    added = lang.with_header(code, header)
    return (code, None) if added is None else (added, header)


_COMMENT_STARTS = ("//", "/*", "#")


def _bare_code(answer: str, lang: Language) -> bool:
    """Whether an answer without any fence is code in ``lang`` as a whole: its first non-blank line looks like the
    language or opens a comment, and the language's marks are there (prose quoting a line of code is not)."""
    head = answer.lstrip().split("\n", 1)[0]
    if not head or "```" in answer or "~~~" in answer:
        return False
    return (lang.looks_like(head) or head.startswith(_COMMENT_STARTS)) and lang.looks_like(answer)


def _clean(code: str) -> str:
    """Drop leading and trailing blank lines; end with one newline."""
    lines = code.split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def extract_code(text: str, language: str, problem: Problem | None = None) -> Extraction:
    """The ``language`` (``cpp`` or ``python``) submission in a model's completion ``text``.

    ``problem`` (optional) lets C++ code get the ``#include "<code>.h"`` of a grader or stub
    header. Never raises for any ``text``; an unknown ``language`` is a ValueError.
    """
    lang = _language(language)
    if not isinstance(text, str):
        return _no_code(f"not text: {type(text).__name__}")
    if not text.strip():
        return _no_code("empty completion")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    answer, note = _strip_reasoning(text)
    if answer is None:
        return _no_code(note)
    notes = [note] if note else []
    blocks = find_blocks(answer)
    tags = lang.fence_tags
    chosen: str | None = None

    for b in reversed(blocks):
        if b.closed and b.tag in tags:
            chosen = answer[b.start:b.end]
            break
    if chosen is None and blocks and not blocks[-1].closed and blocks[-1].tag in tags:
        chosen = answer[blocks[-1].start:]
        notes.append("unclosed final fence")
    if chosen is None:
        for b in reversed(blocks):
            if not b.tag and lang.looks_like(content := answer[b.start:b.end]):
                chosen = content
                notes.append("untagged block" if b.closed else "untagged block; unclosed final fence")
                break
    if chosen is None and not blocks and _bare_code(answer, lang):
        chosen = answer
        notes.append("bare code (no fence)")
    if chosen is None:
        others = sorted({b.tag for b in blocks if b.tag and b.tag not in tags})
        if others:
            notes.append(f"no {lang.name} block (found: {', '.join(others[:5])})")
        elif blocks:
            notes.append(f"no {lang.name} block (untagged blocks do not look like {lang.name})")
        else:
            notes.append("no code block")
        return _no_code("; ".join(notes))
    code = _clean(chosen)
    code, header = _add_header(code, lang, problem)
    if header is not None:
        notes.append(f'added #include "{header}"')
    return Extraction(code=code, status="ok", note="; ".join(n for n in notes if n))
