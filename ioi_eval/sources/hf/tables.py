"""Reading dataset tables offline: a Hub id through the ``datasets`` cache, a ``save_to_disk`` folder,
a dataset folder (a Hub snapshot or a folder of data files), or Parquet / JSON / JSON Lines files.

A :class:`Table` streams rows as dicts (large test-case tables never sit in memory whole) and has a
``fingerprint`` that changes whenever its content (or the Hub revision) changes, so materialised
packages can be cached by it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ...errors import SourceError

DATA_SUFFIXES = (".parquet", ".jsonl", ".json", ".arrow")
BATCH_ROWS = 16  # rows per batch read: test cases reach tens of MB each


class Table(Protocol):
    """Rows of one dataset split."""

    name: str

    @property
    def fingerprint(self) -> str:
        """Changes whenever the rows may have changed."""
        ...

    @property
    def columns(self) -> list[str]:
        """Column names."""
        ...

    def rows(self, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
        """The rows (only ``columns`` when given), streamed."""
        ...


def _datasets():
    try:
        import datasets
    except ImportError:
        raise SourceError("reading Hugging Face datasets needs the 'datasets' package "
                          "(pip install 'ioi-eval[hf]')") from None
    return datasets


@dataclass
class DatasetTable:
    """A ``datasets.Dataset`` (memory-mapped Arrow): from the Hub cache, ``load_from_disk`` or a folder."""

    name: str
    dataset: Any

    @property
    def fingerprint(self) -> str:
        return str(getattr(self.dataset, "_fingerprint", "")) or _hash_json(self.dataset.info.to_dict())

    @property
    def columns(self) -> list[str]:
        return list(self.dataset.column_names)

    def rows(self, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
        ds = self.dataset
        if columns is not None:
            ds = ds.select_columns([c for c in columns if c in ds.column_names])
        for batch in ds.iter(batch_size=BATCH_ROWS):
            keys = list(batch)
            for i in range(len(batch[keys[0]]) if keys else 0):
                yield {k: batch[k][i] for k in keys}


@dataclass
class FilesTable:
    """Parquet, Arrow IPC, JSON (a list of objects) or JSON Lines files, read directly."""

    name: str
    files: list[Path]

    @property
    def fingerprint(self) -> str:
        return _files_fingerprint(self.files)

    @property
    def columns(self) -> list[str]:
        for f in self.files:
            if f.suffix == ".parquet":
                import pyarrow.parquet as pq

                return list(pq.ParquetFile(f).schema_arrow.names)
            for row in self._file_rows(f, None):
                return list(row)
        return []

    def rows(self, columns: list[str] | None = None) -> Iterator[dict[str, Any]]:
        for f in self.files:
            yield from self._file_rows(f, columns)

    @staticmethod
    def _file_rows(f: Path, columns: list[str] | None) -> Iterator[dict[str, Any]]:
        try:
            if f.suffix == ".parquet":
                import pyarrow.parquet as pq

                pf = pq.ParquetFile(f)
                cols = [c for c in columns if c in pf.schema_arrow.names] if columns is not None else None
                for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=cols):
                    yield from batch.to_pylist()
            elif f.suffix == ".arrow":
                import pyarrow as pa

                with pa.memory_map(str(f)) as src:
                    try:
                        reader = pa.ipc.open_stream(src)
                    except pa.ArrowInvalid:
                        reader = pa.ipc.open_file(src)
                    table = reader.read_all()
                for batch in table.to_batches(max_chunksize=BATCH_ROWS):
                    yield from batch.to_pylist()
            elif f.suffix == ".jsonl":
                with f.open(encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        if line.strip():
                            row = json.loads(line)
                            if not isinstance(row, dict):
                                raise SourceError(f"{f}:{n}: a JSON Lines row must be an object")
                            yield row
            else:
                data = json.loads(f.read_text(encoding="utf-8"))
                if isinstance(data, dict):  # {"data": [...]} or a columnar {"col": [...]} file
                    data = data.get("data", data)
                    if isinstance(data, dict):
                        keys = list(data)
                        data = [dict(zip(keys, vals, strict=True)) for vals in zip(*data.values(), strict=True)]
                if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                    raise SourceError(f"{f}: a JSON dataset is a list of row objects")
                yield from data
        except (OSError, ValueError) as exc:
            raise SourceError(f"{f}: cannot read the dataset file: {exc}") from None


def _hash_json(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _files_fingerprint(files: list[Path]) -> str:
    """Name, size and modification time of each file (content hashing would read gigabytes)."""
    parts = []
    for f in files:
        st = f.stat()
        parts.append([str(f.resolve()), st.st_size, st.st_mtime_ns])
    return _hash_json(parts)


def data_files(path: Path, split: str | None = None) -> list[Path]:
    """The data files of a folder (recursively), preferring those whose name mentions ``split``."""
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES
                   and not p.name.startswith(".") and p.name not in ("dataset_info.json", "state.json"))
    if split:
        named = [p for p in files if split in p.relative_to(path).as_posix()]
        if named:
            return named
    return files


def is_saved_dataset(path: Path) -> bool:
    """A ``Dataset.save_to_disk`` or ``DatasetDict.save_to_disk`` folder."""
    return (path / "state.json").is_file() or (path / "dataset_dict.json").is_file()


def open_local(path: Path, config: str | None, split: str | None, name: str) -> Table:
    """A table from a local file or folder."""
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    if path.is_file():
        if path.suffix not in DATA_SUFFIXES:
            raise SourceError(f"{path}: not a dataset file ({', '.join(DATA_SUFFIXES)})")
        return FilesTable(name, [path])
    if is_saved_dataset(path):
        try:
            ds = _datasets().load_from_disk(str(path))
        except Exception as exc:  # corrupt or foreign folders raise many types
            raise SourceError(f"{path}: cannot load the saved dataset: {type(exc).__name__}: {exc}") from None
        if hasattr(ds, "keys"):  # a DatasetDict
            chosen = split or ("test" if "test" in ds else next(iter(ds)))
            if chosen not in ds:
                raise SourceError(f"{path}: no split {chosen!r} (splits: {', '.join(ds)})")
            ds = ds[chosen]
        return DatasetTable(name, ds)
    if config and (path / config).is_dir():
        path = path / config
    files = data_files(path, split)
    if not files:
        raise SourceError(f"{path}: holds no dataset files ({', '.join(DATA_SUFFIXES)}) and is not a "
                          "save_to_disk folder")
    return FilesTable(name, files)


def hub_offline() -> bool:
    """Whether the Hugging Face libraries are told to stay offline (``HF_DATASETS_OFFLINE`` / ``HF_HUB_OFFLINE``)."""
    return os.environ.get("HF_DATASETS_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1"


def open_hub(repo: str, config: str | None, split: str, name: str) -> Table:
    """A split of a Hub dataset through the ``datasets`` cache (offline with ``HF_DATASETS_OFFLINE=1``)."""
    datasets = _datasets()
    try:
        ds = datasets.load_dataset(repo, name=config, split=split)
    except Exception as exc:  # the library raises many types (connection, missing config, cache miss)
        hint = " (offline: is it in the datasets cache? run once online, or give a local path)" if hub_offline() else ""
        raise SourceError(f"cannot load the Hub dataset {repo}"
                          f"{'@' + config if config else ''}/{split}: {type(exc).__name__}: {exc}{hint}") from None
    return DatasetTable(name, ds)


def is_local_ref(ref: str) -> bool:
    """Whether a dataset reference is a local path (absolute, ``./``, ``../``, ``~`` or existing) not a Hub id."""
    return ref.startswith(("/", "./", "../", "~")) or Path(ref).expanduser().exists()


def open_table(ref: str, config: str | None, split: str | None, default_split: str = "test") -> Table:
    """A local path, or else a Hub id."""
    if is_local_ref(ref):
        return open_local(Path(ref).expanduser(), config, split, ref)
    return open_hub(ref, config, split or default_split, ref)
