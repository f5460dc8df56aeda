"""``hf:`` problem sources: open-r1's IOI and Codeforces datasets, materialised as CMS-layout packages.

``<dataset>`` is a Hub id (``open-r1/ioi``, read through the ``datasets`` cache, so offline with
``HF_DATASETS_OFFLINE=1`` once cached) or a local path (absolute or ``./``): a ``save_to_disk``
folder, a Hub snapshot or folder of data files, or one Parquet / JSON / JSON Lines file. The
dataset's kind (IOI or Codeforces) is told from its columns, or given as ``kind=ioi|codeforces``.

Packages are written once into ``$IOI_EVAL_CACHE/sources/<kind>-<key>/`` where the key hashes the
fingerprints of every table read (which change with the Hub revision or the files) and the
options, so a new dataset revision materialises afresh and an unchanged one is reused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from ...cache import atomic_dir, cache_root
from ...errors import SourceError
from .spec import FORMAT_VERSION, detect_kind, parse_spec
from .tables import DATA_SUFFIXES, Table, is_saved_dataset, open_table


def cached_packages(kind: str, key_parts: dict, write: Callable[[Path], list[str]]) -> list[Path]:
    """The package folders of a materialisation, written by ``write(folder) -> codes`` on a cache miss."""
    key = hashlib.sha256(json.dumps({"v": FORMAT_VERSION, "kind": kind, **key_parts}, sort_keys=True,
                                    default=str).encode()).hexdigest()[:16]
    base = cache_root() / "sources"
    dest = base / f"{kind}-{key}"
    manifest = dest / "manifest.json"
    if not manifest.is_file():
        try:
            with atomic_dir(dest, prefix=".build-") as tmp:  # built concurrently by another process: keep theirs
                codes = write(tmp)
                (tmp / "manifest.json").write_text(json.dumps({"source": key_parts, "problems": codes}, default=str))
        except OSError as exc:  # a full or read-only cache
            raise SourceError(f"{base}: cannot write the materialised packages: {exc}") from None
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
            from .ioi import IoiMaterialiser

            mat = IoiMaterialiser(self.parsed, table)
        elif kind == "codeforces":
            from .codeforces import CodeforcesMaterialiser

            mat = CodeforcesMaterialiser(self.parsed, table)
        else:
            raise SourceError(f"{self.spec}: unknown kind {kind!r} (ioi or codeforces)")
        return cached_packages(kind, mat.key_parts(), mat.write)


def detect_dataset(path: Path) -> HfSource | None:
    """A local ``save_to_disk`` folder or dataset file given without ``hf:``."""
    if (path.is_dir() and is_saved_dataset(path)) or (path.is_file() and path.suffix in DATA_SUFFIXES):
        return HfSource(str(path.resolve()))
    return None
