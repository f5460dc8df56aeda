"""Writing an imported problem as a CMS-layout package in the cache (shared by the Kattis and Polygon importers).

An importer describes the problem as a :class:`PackageDraft`; :func:`materialise` writes it once to
``<cache>/sources/<kind>/<code>-<hash>`` where the hash covers every file of the source package
(symlinks followed) and the importer's version, so an edited package is imported again and an
unchanged one is not. The hash is remembered under a fingerprint of the files' sizes and
modification times, so an unchanged package is not read again. The folder is written aside and
renamed into place, so a crash never leaves half a package in the cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import keyword
import logging
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from ..cache import atomic_dir, cache_root
from ..errors import PackageError
from ..problem.writer import PackageDraft, write_package
from .loader import check_files, find_root, unzip_package

log = logging.getLogger(__name__)

#: Bump when an importer's output changes, so cached imports are redone.
IMPORTER_VERSION = "2"
CODE_CHARS = re.compile(r"[^A-Za-z0-9_]")


def safe_code(name: str) -> str:
    """A task code usable as a file and module name (``<code>.cpp``, ``import <code>``)."""
    code = CODE_CHARS.sub("_", name).strip("_") or "problem"
    return f"p_{code}" if code[0].isdigit() or keyword.iskeyword(code) else code


def walk_files(root: Path) -> list[Path]:
    """Every file under ``root``, sorted, following symlinked files and folders (each real folder once)."""
    seen: set[str] = set()
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        real = os.path.realpath(dirpath)
        if real in seen:
            dirnames[:] = []
            continue
        seen.add(real)
        dirnames.sort()
        for name in filenames:
            p = Path(dirpath) / name
            if p.is_file():
                out.append(p)
    return sorted(out)


def content_hash(root: Path, kind: str) -> str:
    """A digest of ``root``'s name, every file's relative path and content under it, and the importer."""
    # The folder's name is part of it: a Kattis problem's code is its folder name.
    h = hashlib.sha256(f"{kind}\0{IMPORTER_VERSION}\0{root.name}\0".encode())
    for p in walk_files(root):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        with p.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\1")
    return h.hexdigest()[:16]


def stat_fingerprint(root: Path, kind: str) -> str:
    """A cheap digest of the names, sizes and modification times of every file under ``root``."""
    h = hashlib.sha256(f"{kind}\0{IMPORTER_VERSION}\0{root.resolve()}\0".encode())
    for p in walk_files(root):
        st = p.stat()
        h.update(f"{p.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\1".encode())
    return h.hexdigest()[:32]


def package_digest(root: Path, kind: str) -> str:
    """:func:`content_hash` of ``root``, remembered under its :func:`stat_fingerprint` so that an
    unchanged package (often hundreds of MB of tests) is not read again on every listing."""
    memo = cache_root() / "sources" / kind / ".stat" / stat_fingerprint(root, kind)
    with contextlib.suppress(OSError):
        digest = memo.read_text().strip()
        if len(digest) == 16:
            return digest
    digest = content_hash(root, kind)
    with contextlib.suppress(OSError):
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(digest)
    return digest


def package_roots(path: Path, is_root: Callable[[Path], bool], what: str,
                  container: Callable[[Path], Path] = lambda p: p) -> list[Path]:
    """The package folders ``path`` names, for one format (``is_root`` tells its package folders).

    ``path`` is a package, a ``.zip`` of one (or of a folder holding one), or a folder of packages;
    ``container`` maps a folder to the folder its packages lie in (a Polygon contest's ``problems/``).
    """
    if not path.exists():
        raise PackageError(f"{path}: no such file or folder")
    if path.is_file() and path.suffix.lower() == ".zip":
        path = unzip_package(path)
        if not is_root(path):
            subs = [c for c in path.iterdir() if c.is_dir() and is_root(c)]
            path = subs[0] if len(subs) == 1 else path
    if is_root(path):
        return [path]
    path = container(path)
    roots = [c for c in sorted(path.iterdir()) if c.is_dir() and is_root(c)] if path.is_dir() else []
    if not roots:
        raise PackageError(f"{path}: no {what}")
    return roots


def holds_packages(path: Path, marker: str, is_root: Callable[[Path], bool],
                   also: Callable[[Path], bool] = lambda p: False) -> bool:
    """Whether a local path holds packages of one format: a ``.zip`` with ``marker`` at its top (or one
    folder down), a package folder, a folder for which ``also`` holds, or a folder of packages."""
    try:
        if path.is_file() and path.suffix.lower() == ".zip":
            return zip_holds(path, marker)
        return path.is_dir() and (is_root(path) or also(path) or any(c.is_dir() and is_root(c)
                                                                     for c in path.iterdir()))
    except OSError:
        return False


def zip_holds(path: Path, marker: str) -> bool:
    """Whether a zip archive holds ``marker`` at its top level or one folder down."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(n.strip("/").split("/")[-1] == marker and n.strip("/").count("/") <= 1 for n in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def materialise(source_root: Path, kind: str, draft_of: Callable[[Path], PackageDraft]) -> Path:
    """The cached CMS-layout package of ``source_root``, importing it first if needed.

    The source package is checked first as a CMS one is (:func:`~.loader.check_files`): a symlink out of
    it, or a special file in it, would be read (or block the reader) and land in the imported package.
    """
    check_files(source_root)
    digest = package_digest(source_root, kind)
    base = cache_root() / "sources" / kind
    done = [p for p in base.glob(f"*-{digest}") if (p / "problem.json").is_file()] if base.is_dir() else []
    if done:
        return done[0]
    log.info("importing %s (%s) into the cache", source_root, kind)
    draft = draft_of(source_root)
    dest = base / f"{draft.code}-{digest}"
    with atomic_dir(dest, prefix=".import-") as tmp:  # another process may import it concurrently
        write_package(draft, tmp)
    return find_root(dest)
