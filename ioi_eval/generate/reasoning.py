"""Keep a reasoning model's thinking trace apart from its answer.

Reasoning models wrap their trace in tags: ``<think>…</think>`` (DeepSeek-R1, Qwen3, QwQ),
``<thinking>…</thinking>``, or ``<|begin_of_thought|>…<|end_of_thought|>`` (Sky-T1, OpenThoughts,
whose answers may sit in ``<|begin_of_solution|>…<|end_of_solution|>``). The judge must only ever see
the answer: code quoted while thinking is not a submission.
"""

from __future__ import annotations

import re

#: (opening, closing) tag pairs, in the order they are tried.
REASONING_TAGS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<|begin_of_thought|>", "<|end_of_thought|>"),
)

_OPEN = re.compile("|".join(re.escape(o) for o, _ in REASONING_TAGS), re.IGNORECASE)
_CLOSE = re.compile("|".join(re.escape(c) for _, c in REASONING_TAGS), re.IGNORECASE)
_ANY = re.compile("|".join(re.escape(t) for pair in REASONING_TAGS for t in pair), re.IGNORECASE)
_SOLUTION_TAGS = re.compile(r"<\|(?:begin|end)_of_solution\|>", re.IGNORECASE)


def _closing_for(opening: str) -> re.Pattern[str]:
    """The closing-tag pattern that matches ``opening``."""
    for o, c in REASONING_TAGS:
        if o.lower() == opening.lower():
            return re.compile(re.escape(c), re.IGNORECASE)
    raise ValueError(f"not an opening tag: {opening!r}")  # pragma: no cover - internal


def _join(parts: list[str]) -> str | None:
    """Join reasoning fragments; None when there is nothing but whitespace."""
    text = "\n\n".join(p.strip() for p in parts if p.strip())
    return text or None


def _clean_answer(text: str) -> str:
    """Drop solution markers around an answer and surrounding whitespace."""
    return _SOLUTION_TAGS.sub("", text).strip()


def split_reasoning(text: str, *, opened: bool = False) -> tuple[str | None, str]:
    """Split a completion into ``(reasoning, answer)``.

    * ``<think>R</think>A`` gives ``("R", "A")`` (any of :data:`REASONING_TAGS`; several closed blocks
      are all removed from the answer and their traces joined).
    * An unclosed opening tag (a reasoning model cut off while thinking) makes the whole text reasoning,
      and the answer ``""``: a truncated trace must never be judged as an answer.
    * A closing tag with no opening tag before it (the chat template put ``<think>`` in the prompt) makes
      everything before it reasoning.
    * ``opened=True`` says the prompt itself ended with an opening tag: text without any tag is then an
      unfinished trace, ``(text, "")``.
    * Text with no tags at all (and ``opened`` false) is returned as ``(None, text)``, untouched.

    Reasoning made of whitespace only (an empty ``<think></think>``) is returned as None.
    """
    if not _ANY.search(text):
        if opened:
            return _join([text]), ""
        return None, text

    reasoning: list[str] = []
    answer: list[str] = []
    rest = text
    first_close = _CLOSE.search(rest)
    first_open = _OPEN.search(rest)
    if first_close and (first_open is None or first_close.start() < first_open.start()):
        # The trace was opened by the prompt: everything before the first closing tag is reasoning.
        reasoning.append(rest[: first_close.start()])
        rest = rest[first_close.end():]

    while True:
        m = _OPEN.search(rest)
        if m is None:
            answer.append(_CLOSE.sub("", rest))  # stray closing tags carry no meaning in an answer
            break
        answer.append(rest[: m.start()])
        after = rest[m.end():]
        close = _closing_for(m.group(0)).search(after)
        if close is None:
            # Unclosed trace: the model was cut off while thinking. Nothing here is an answer.
            reasoning.extend(answer)
            reasoning.append(after)
            return _join([_ANY.sub("", r) for r in reasoning]), ""
        reasoning.append(after[: close.start()])
        rest = after[close.end():]

    return _join(reasoning), _clean_answer("".join(answer))


def prompt_opens_reasoning(prompt: str) -> bool:
    """True when a rendered prompt ends inside an opened reasoning block (e.g. DeepSeek-R1's template
    appends ``<think>\\n``), so the completion starts mid-trace."""
    tail = prompt.rstrip().lower()
    return any(tail.endswith(opening.lower()) for opening, _ in REASONING_TAGS)


_JOIN_HEAD, _JOIN_TAIL = "<think>\n", "\n</think>\n"


def join_reasoning(reasoning: str | None, answer: str) -> str:
    """A raw completion from its split parts, as reasoning models write it: ``<think>\\nR\\n</think>\\nA``
    (just ``A`` without reasoning). :func:`unjoin_reasoning` undoes it exactly, given ``A``."""
    if reasoning is None:
        return answer
    return f"{_JOIN_HEAD}{reasoning}{_JOIN_TAIL}{answer}"


def unjoin_reasoning(generation: str, answer: str) -> tuple[str | None, str] | None:
    """The exact ``(reasoning, answer)`` that :func:`join_reasoning` made ``generation`` from, or None
    when ``generation`` is not of that form (then :func:`split_reasoning` is the way to split it)."""
    if generation == answer:
        return None, answer
    head, tail = _JOIN_HEAD, _JOIN_TAIL + answer
    if len(generation) >= len(head) + len(tail) and generation.startswith(head) and generation.endswith(tail):
        return generation[len(head): len(generation) - len(tail)], answer
    return None
