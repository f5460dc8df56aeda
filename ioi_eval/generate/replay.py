"""Replay completions recorded elsewhere, so published outputs can be re-judged without a model.

Sources (``ReplayEngine(source)``):

* a JSONL file (``.jsonl``, ``.jsonl.gz``) or a JSON file holding a list of rows (or JSON lines);
* a Parquet file;
* a folder written by ``datasets.Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``;
* a folder of ``*.jsonl`` / ``*.json`` / ``*.parquet`` files (read in name order);
* ``hf:<repo>[:<config>][@<split>]``, loaded with ``datasets.load_dataset`` (the Hugging Face cache
  serves it offline once downloaded; set ``HF_DATASETS_OFFLINE=1`` to forbid the network).

Row shapes (``replay_shapes.py``, one class each; a row is read by the first that recognises it): ours (``key``,
``text``...), ``ioi-eval export cots`` datasets, open-r1's IOI layouts (``problem_id``, ``generation``, ``code``),
EvalPlus (``task_id``, ``solution``) and LiveCodeBench (``question_id``, ``code_list``: one sample per entry).
A source in which no row has a known shape is an :class:`~ioi_eval.errors.EngineError` naming the source and the
fields seen; rows in no known shape, and completions that hold no code to judge, are counted in :attr:`notes`
(the run prints them), never dropped silently.

A request is matched by ``key`` first, else by (problem, subtask, sample index). Rows without a sample
index are numbered in order of appearance within their (problem, subtask). Problem ids are also compared
in a normalised form (case, ``-``/``_``, a leading ``ioi2024_``-style prefix, a ``Bench/`` prefix), so
``IOI2024_nile`` finds ``nile``. A request with no matching row yields a Completion whose ``error`` says so, never
an empty answer.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from ioi_eval.errors import EngineError
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.generate.replay_shapes import SHAPES, Record, first, shape_of
from ioi_eval.judge.languages import LANGUAGES

_DATASETS_HINT = "pip install datasets  (or: pip install 'ioi-eval[test]')"
#: How many rows a warning names.
_NAMED = 5


def _import_datasets(what: str) -> Any:
    """Import ``datasets`` or fail with the install command."""
    try:
        import datasets
    except ImportError as e:  # pragma: no cover - exercised only without datasets
        raise ImportError(f"replaying {what} needs the 'datasets' package: {_DATASETS_HINT}") from e
    return datasets


def norm_problem(problem: str) -> str:
    """A problem id in a form that ignores case, separators and a leading ``ioi2024_``/``2024_``/``day1_``."""
    p = re.sub(r"[\s\-]+", "_", problem.strip().lower())
    p = p.rsplit("/", 1)[-1]
    p = re.sub(r"^(?:ioi_?)?(?:\d{4}_)?(?:day_?\d_)?", "", p)
    return p


# ---------------------------------------------------------------------------------------------- reading

def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSON-lines file (optionally gzipped); blank lines are skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{n}: not valid JSON: {e}") from e
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{n}: expected a JSON object per line")
            yield row


def _read_json(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSON file: a list of objects, an object with a list under ``rows``/``data``/``completions``,
    or JSON lines under a .json name."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        content = f.read()
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        yield from _read_jsonl(path)
        return
    if isinstance(data, dict):
        for name in ("rows", "data", "completions"):
            if isinstance(data.get(name), list):
                data = data[name]
                break
        else:
            data = [data]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a list of objects")
    for row in data:
        if not isinstance(row, dict):
            raise ValueError(f"{path}: expected a list of objects")
        yield row


def _read_parquet(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a Parquet file (pyarrow, which ``datasets`` brings along)."""
    try:
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - exercised only without pyarrow
        raise ImportError(f"replaying Parquet files needs pyarrow: {_DATASETS_HINT}") from e
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=1024):
        yield from batch.to_pylist()


def _rows_of_dataset(ds: Any, split: str | None) -> Iterator[dict[str, Any]]:
    """Rows of a ``datasets.Dataset`` or of a ``DatasetDict`` (one split, or all of them in order)."""
    if isinstance(ds, Mapping):  # DatasetDict / IterableDatasetDict
        names = list(ds.keys())
        if split is not None:
            if split not in names:
                raise ValueError(f"split {split!r} not in dataset (splits: {', '.join(names)})")
            names = [split]
        for name in names:
            yield from ds[name]
        return
    yield from ds


def _is_saved_dataset(path: Path) -> bool:
    """True for a folder written by ``save_to_disk``."""
    return (path / "dataset_dict.json").is_file() or (path / "state.json").is_file()


def _read_path(path: Path, split: str | None) -> Iterator[dict[str, Any]]:
    """Rows of a local source (file or folder)."""
    if path.is_dir():
        if _is_saved_dataset(path):
            datasets = _import_datasets(f"a saved dataset folder ({path})")
            yield from _rows_of_dataset(datasets.load_from_disk(str(path)), split)
            return
        files = sorted(p for p in path.rglob("*") if p.is_file() and _kind(p) is not None)
        if not files:
            raise FileNotFoundError(f"{path}: no .jsonl, .json or .parquet files, nor a saved dataset")
        for f in files:
            yield from _read_path(f, split)
        return
    if not path.exists():
        raise FileNotFoundError(f"replay source not found: {path}")
    kind = _kind(path)
    if kind == "jsonl":
        yield from _read_jsonl(path)
    elif kind == "json":
        yield from _read_json(path)
    elif kind == "parquet":
        yield from _read_parquet(path)
    else:
        raise ValueError(f"{path}: unknown replay file type (expected .jsonl, .json, .parquet or a dataset folder)")


def _kind(path: Path) -> str | None:
    """The reader for a file name."""
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
        return "jsonl"
    if name.endswith((".json", ".json.gz")):
        return "json"
    if name.endswith(".parquet"):
        return "parquet"
    return None


def parse_hf_source(source: str) -> tuple[str, str | None, str | None]:
    """Split ``hf:<repo>[:<config>][@<split>]`` into (repo, config, split)."""
    spec = source[len("hf:"):] if source.startswith("hf:") else source
    split = None
    if "@" in spec:
        spec, split = spec.rsplit("@", 1)
        split = split or None
    config = None
    if ":" in spec:
        spec, config = spec.split(":", 1)
        config = config or None
    if not spec:
        raise ValueError(f"bad Hugging Face source {source!r}: expected hf:<repo>[:<config>][@<split>]")
    return spec, config, split


def _read_hf(source: str, split: str | None) -> Iterator[dict[str, Any]]:
    """Rows of a Hugging Face Hub dataset (from the local cache when offline)."""
    repo, config, spec_split = parse_hf_source(source)
    datasets = _import_datasets(f"Hugging Face datasets ({source})")
    ds = datasets.load_dataset(repo, config, split=spec_split or split)
    yield from _rows_of_dataset(ds, None)


def read_rows(source: str | Path, *, split: str | None = None) -> Iterator[dict[str, Any]]:
    """Raw rows of a replay source (see the module docstring for what a source may be)."""
    if isinstance(source, str) and source.startswith("hf:"):
        return _read_hf(source, split)
    return _read_path(Path(source), split)


# ---------------------------------------------------------------------------------------------- engine

def _tuple_key(problem: str | None, subtask: str | None, sample: int) -> tuple[str, str, int]:
    """The (problem, subtask, sample) matching key; a missing subtask matches a missing subtask."""
    return (problem or "", (subtask or "").lower(), sample)


def no_code_reason(rec: Record) -> str | None:
    """Why a record holds no code to judge (None: it may hold some, or it is a recorded failure).

    Language-agnostic and a little generous (a fence or a line that looks like code of any language is enough);
    the run's code extraction has the last word, and records ``no_code`` with its own note per sample.
    """
    if rec.error is not None or rec.has_code_field:
        return None
    text = rec.text
    if not text.strip():
        return "no answer after the reasoning" if rec.reasoning else "empty completion"
    if "```" in text or "~~~" in text or any(lang.looks_like(text) for lang in LANGUAGES.values()):
        return None
    return "no code in the text"


def _rows_named(items: Sequence[str]) -> str:
    """``row N`` or ``rows N, M, ...`` for ``items`` (already formatted): the first few, then an ellipsis."""
    shown = ", ".join(items[:_NAMED])
    return ("row " if len(items) == 1 else "rows ") + shown + (", ..." if len(items) > _NAMED else "")


class Options(BaseModel, extra="forbid"):
    """The options of the ``replay`` engine (:class:`ReplayEngine` describes each); defaults as the engine's own.
    (``rows``, for in-memory use, is no option: it cannot be stored with a run.)"""

    split: str | None = None
    prefer_code: bool = False


class ReplayEngine:
    """An :class:`~ioi_eval.generate.base.Engine` that serves recorded completions.

    Args:
        source: a file, a folder or ``hf:<repo>[:<config>][@<split>]`` (see the module docstring).
        split: the split to use for a dataset source with several (default: all, in order).
        prefer_code: answer with a fenced block of the row's extracted ``code`` whenever it has one,
            instead of the full ``generation`` (reproduces scores published for that exact code).
        rows: rows given directly (tests, in-memory use); ``source`` may then be ``None``.

    Raises:
        EngineError: the source holds rows, but none in a shape this engine knows.
    """

    name = "replay"
    #: the run asks the engine for the model's name (:attr:`model_name`, from the rows) before naming its folder
    names_model = True

    def __init__(self, source: str | Path | None = None, *, split: str | None = None, prefer_code: bool = False,
                 rows: Iterable[Mapping[str, Any]] | None = None) -> None:
        if source is None and rows is None:
            raise ValueError("ReplayEngine needs a source (file, folder or hf:<repo>) or rows")
        self.source = source
        where = str(source) if source is not None else "the rows given"
        raw = rows if rows is not None else read_rows(source, split=split)  # type: ignore[arg-type]
        self.records: list[Record] = []
        #: what the user should know about the source: rows skipped, completions without code (one line each)
        self.notes: list[str] = []
        unknown: list[int] = []
        fields: dict[str, None] = {}
        names: set[str] = set()
        n_rows = 0
        for n_rows, row in enumerate(raw, 1):
            shape = shape_of(row)
            if shape is None:
                unknown.append(n_rows)
                fields.update(dict.fromkeys(k for k, v in row.items() if v is not None))
                continue
            for rec in shape.records(row, prefer_code=prefer_code):
                rec.row = n_rows
                self.records.append(rec)
            if name := first(row, "model", "model_id", "model_name"):
                names.add(str(name).strip())
        if unknown and len(unknown) == n_rows:
            known = "; ".join(f"{s.name} ({s.signature})" for s in SHAPES)
            raise EngineError(f"{where}: no row is in a replay shape ioi-eval knows (fields seen: "
                              f"{', '.join(list(fields)[:12]) or 'none'}); expected one of: {known}")
        names -= {""}
        #: the model every row names (None when they name none, or several)
        self.model_name: str | None = names.pop() if len(names) == 1 else None
        self._index()
        if unknown:
            self.notes.append(f"replay: {len(unknown)} of {n_rows} rows of {where} are in no known shape and were "
                              f"skipped ({_rows_named([str(n) for n in unknown])}; their fields: "
                              f"{', '.join(list(fields)[:8])})")
        no_code = [(rec, why) for rec in self.records if (why := no_code_reason(rec)) is not None]
        if no_code:
            named = [f"{rec.row} ({rec.label}: {why})" for rec, why in no_code]
            self.notes.append(f"replay: {len(no_code)} of {len(self.records)} completions of {where} hold no code "
                              f"to judge and will count as no_code ({_rows_named(named)})")

    def _index(self) -> None:
        """Index the records by key and by (problem, subtask, sample), numbering those without a sample index."""
        self._by_key: dict[str, Record] = {}
        self._by_tuple: dict[tuple[str, str, int], Record] = {}
        self._by_norm: dict[tuple[str, str, int], Record] = {}
        counters: dict[tuple[str, str], int] = {}
        for rec in self.records:
            if rec.key is not None:
                self._by_key.setdefault(rec.key, rec)
            if rec.problem is None:
                continue
            group = (rec.problem, (rec.subtask or "").lower())
            if rec.sample is None:
                rec.sample = counters.get(group, 0)
            counters[group] = max(counters.get(group, 0), rec.sample + 1)
            self._by_tuple.setdefault(_tuple_key(rec.problem, rec.subtask, rec.sample), rec)
            self._by_norm.setdefault(_tuple_key(norm_problem(rec.problem), rec.subtask, rec.sample), rec)

    @classmethod
    def from_options(cls, model: str, options: Options) -> ReplayEngine:
        """The engine replaying the source ``model`` (a file, folder or ``hf:<repo>``) with ``options``."""
        return cls(model, **options.model_dump())

    def __len__(self) -> int:
        return len(self.records)

    def lookup(self, request: GenerationRequest) -> Record | None:
        """The recorded row for a request: by key, else by (problem, subtask, sample)."""
        rec = self._by_key.get(request.key)
        if rec is not None:
            return rec
        rec = self._by_tuple.get(_tuple_key(request.problem, request.subtask, request.sample))
        if rec is not None:
            return rec
        return self._by_norm.get(_tuple_key(norm_problem(request.problem), request.subtask, request.sample))

    def _missing(self, request: GenerationRequest) -> str:
        """The error of a request no row answers, with a hint when the rows are per problem and it is not."""
        message = f"no recorded completion for {request.key}"
        if request.subtask and _tuple_key(norm_problem(request.problem), None, request.sample) in self._by_norm:
            message += (f" (the source's rows for {request.problem} name no subtask: replay them with "
                        "--per problem)")
        return message

    def generate(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig) -> Iterator[Completion]:
        """Yield the recorded completion of each request (sampling is ignored: it was fixed when recorded)."""
        for req in requests:
            rec = self.lookup(req)
            if rec is None:
                yield Completion(key=req.key, seed=req.seed, error=self._missing(req))
                continue
            yield Completion(
                key=req.key,
                text=rec.text,
                reasoning=rec.reasoning,
                finish_reason=rec.finish_reason,
                prompt_tokens=rec.prompt_tokens,
                completion_tokens=rec.completion_tokens,
                seed=rec.seed if rec.seed is not None else req.seed,
                error=rec.error,
            )

    def preflight(self) -> None:
        """The source was read and parsed when the engine was built; one that holds no completion is an
        :class:`~ioi_eval.errors.EngineError` (every generation would fail)."""
        if not self.records:
            raise EngineError(f"the replay source {self.source} holds no completions")

    def close(self) -> None:
        """Nothing to release."""
