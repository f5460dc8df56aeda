"""``hf:`` problem sources: open-r1's IOI and Codeforces datasets, materialised as CMS-layout packages.

Spec syntax (see ``docs/sources.md``)::

    hf:<dataset>[:<config>][@<split>][?<option>=<value>&...]     (also <dataset>@<config>/<split>)

``<dataset>`` is a Hub id (``open-r1/ioi``, read through the ``datasets`` cache, so offline with
``HF_DATASETS_OFFLINE=1`` once cached) or a local path (absolute or ``./``): a ``save_to_disk``
folder, a Hub snapshot or folder of data files, or one Parquet / JSON / JSON Lines file. The
dataset's kind (IOI or Codeforces) is told from its columns, or given as ``kind=ioi|codeforces``.

Packages are written once into ``$IOI_EVAL_CACHE/sources/<kind>-<key>/`` where the key hashes the
fingerprints of every table read (which change with the Hub revision or the files) and the
options, so a new dataset revision materialises afresh and an unchanged one is reused.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl

from ..judge.compiler import default_cache_dir
from .tables import DATA_SUFFIXES, SourceError, Table, is_local_ref, is_saved_dataset, open_table

#: bump when the materialised layout changes, so old cache entries are not reused
FORMAT_VERSION = 1

#: defaults for well-known Hub datasets: (config, split)
HUB_DEFAULTS = {"open-r1/ioi": (None, "test"), "open-r1/codeforces": ("verifiable", "test")}
OPTIONS = {"kind", "tests", "generated", "year", "ids", "limit"}


@dataclass
class HfSpec:
    """A parsed ``hf:`` spec."""

    dataset: str
    config: str | None = None
    split: str | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def is_local(self) -> bool:
        """Whether the dataset is a local path rather than a Hub id."""
        return is_local_ref(self.dataset)


def parse_spec(rest: str) -> HfSpec:
    """Parse what follows ``hf:``: ``<dataset>[:<config>][@<split>]`` (as the replay engine's ``hf:``)
    or ``<dataset>@<config>/<split>``, then ``?<option>=<value>&...``."""
    body, _, query = rest.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True)) if query else {}
    unknown = set(options) - OPTIONS
    if unknown:
        raise SourceError(f"hf:{rest}: unknown option(s) {', '.join(sorted(unknown))} "
                          f"(known: {', '.join(sorted(OPTIONS))})")
    config = split = None
    if "@" in body:
        body, _, selector = body.rpartition("@")
        if "/" in selector:  # <config>/<split>
            config, _, split = selector.partition("/")
        else:
            split = selector
    head, colon, tail = body.rpartition(":")
    if colon and head and "/" not in tail and not Path(body).exists():
        body, config = head, config or tail
    if not body:
        raise SourceError(f"hf:{rest}: no dataset named (hf:<hub id or path>[:<config>][@<split>])")
    spec = HfSpec(body, config or None, split or None, options)
    if not spec.is_local and body in HUB_DEFAULTS:
        default_config, default_split = HUB_DEFAULTS[body]
        spec.config = spec.config or default_config
        spec.split = spec.split or default_split
    return spec


def detect_kind(columns: list[str]) -> str:
    """``ioi`` or ``codeforces`` from a table's columns."""
    cols = set(columns)
    if {"grader_files", "test_names", "subtask"} <= cols:
        return "ioi"
    if {"contest_id", "index"} <= cols and ("official_tests" in cols or "time_limit" in cols):
        return "codeforces"
    raise SourceError(f"cannot tell the dataset's kind from its columns ({', '.join(sorted(cols))}); "
                      "pass ?kind=ioi or ?kind=codeforces")


def cached_packages(kind: str, key_parts: dict, write: Callable[[Path], list[str]]) -> list[Path]:
    """The package folders of a materialisation, written by ``write(folder) -> codes`` on a cache miss."""
    key = hashlib.sha256(json.dumps({"v": FORMAT_VERSION, "kind": kind, **key_parts}, sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    base = default_cache_dir() / "sources"
    dest = base / f"{kind}-{key}"
    manifest = dest / "manifest.json"
    if not manifest.is_file():
        base.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=base, prefix=".build-"))
        try:
            codes = write(tmp)
            (tmp / "manifest.json").write_text(json.dumps({"source": key_parts, "problems": codes}, default=str))
            with contextlib.suppress(OSError):  # built concurrently by another process: keep theirs
                tmp.rename(dest)
        except OSError as exc:  # a full or read-only cache
            raise SourceError(f"{base}: cannot write the materialised packages: {exc}") from None
        finally:  # gone once renamed; otherwise nothing half-written is left behind
            shutil.rmtree(tmp, ignore_errors=True)
    codes = json.loads(manifest.read_text())["problems"]
    if not codes:
        raise SourceError("the dataset selection holds no problems")
    return [dest / c for c in codes]


class HfSource:
    """An open-r1-format dataset (IOI or Codeforces) reachable by an ``hf:`` spec."""

    def __init__(self, rest: str) -> None:
        self.spec = f"hf:{rest}"
        self.parsed = parse_spec(rest)

    def table(self) -> Table:
        """The main table (problems)."""
        p = self.parsed
        return open_table(p.dataset, p.config, p.split)

    def packages(self) -> list[Path]:
        """Materialise (or find in the cache) one CMS-layout package per problem."""
        table = self.table()
        kind = self.parsed.options.get("kind") or detect_kind(table.columns)
        if kind == "ioi":
            from .openr1_ioi import IoiMaterialiser

            mat = IoiMaterialiser(self.parsed, table)
        elif kind == "codeforces":
            from .openr1_codeforces import CodeforcesMaterialiser

            mat = CodeforcesMaterialiser(self.parsed, table)
        else:
            raise SourceError(f"{self.spec}: unknown kind {kind!r} (ioi or codeforces)")
        return cached_packages(kind, mat.key_parts(), mat.write)


def option_list(options: dict[str, str], key: str) -> list[str] | None:
    """A comma-separated option as a list (None when absent)."""
    raw = options.get(key)
    return [x.strip() for x in raw.split(",") if x.strip()] if raw else None


def option_int(options: dict[str, str], key: str) -> int | None:
    """An integer option (None when absent)."""
    raw = options.get(key)
    if raw in (None, ""):
        return None
    return _int(raw, key)


def option_ints(options: dict[str, str], key: str) -> set[int] | None:
    """A comma-separated list of integers (None when absent)."""
    items = option_list(options, key)
    return {_int(x, key) for x in items} if items else None


def _int(raw: str, key: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise SourceError(f"option {key}={raw!r} is not an integer") from None


def detect_dataset(path: Path) -> HfSource | None:
    """A local ``save_to_disk`` folder or dataset file given without ``hf:``."""
    if (path.is_dir() and is_saved_dataset(path)) or (path.is_file() and path.suffix in DATA_SUFFIXES):
        return HfSource(str(path.resolve()))
    return None
