"""Small helpers for writing CMS-layout package files from dataset rows."""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from ..errors import SourceError

_CODE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def check_code(code: str, where: str) -> str:
    """A problem code usable as a folder and file name (``<code>.cpp``, ``<code>.h``)."""
    if not _CODE.fullmatch(code or "") or code in (".", ".."):
        raise SourceError(f"{where}: unusable problem id {code!r} (letters, digits, '_', '-', '.')")
    return code


def safe_relative(path: str, where: str) -> PurePosixPath:
    """A dataset-given file path, refused when absolute or escaping the package."""
    rel = PurePosixPath(path.replace("\\", "/").removeprefix("./"))
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise SourceError(f"{where}: refusing the file path {path!r} (outside the package)")
    return rel


def write(root: Path, rel: str | PurePosixPath, content: str | bytes | None) -> Path:
    """Write ``content`` (text as UTF-8, unchanged newlines) at ``root/rel``."""
    target = root / Path(*PurePosixPath(rel).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else (content or "").encode("utf-8")
    target.write_bytes(data)
    return target


def write_json(root: Path, rel: str, data: Any) -> Path:
    """Write a JSON file."""
    return write(root, rel, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
