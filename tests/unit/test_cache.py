"""``cache.remembered``: facts about files, remembered across processes by the files' identity."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ioi_eval.cache import remembered


def _old(path: Path, text: str) -> Path:
    """A file whose modification time is settled (a minute ago)."""
    path.write_text(text)
    past = time.time() - 60
    os.utime(path, (past, past))
    return path


def test_remembered_until_the_file_changes(tmp_path: Path) -> None:
    tool = _old(tmp_path / "tool", "v1")
    calls: list[str] = []

    def ask() -> str:
        calls.append("asked")
        return tool.read_text()

    root = tmp_path / "cache"
    assert remembered("version", [tool], ask, root) == "v1"
    assert remembered("version", [tool], ask, root) == "v1"
    assert calls == ["asked"]  # the second answer came from the cache
    _old(tmp_path / "new", "v2").replace(tool)  # replaced, as an upgrade does: a new inode
    assert remembered("version", [tool], ask, root) == "v2" and len(calls) == 2
    tool.write_text("v3")  # rewritten in place just now: answered, not remembered (its mtime may not move again)
    assert remembered("version", [tool], ask, root) == "v3"
    assert remembered("version", [tool], ask, root) == "v3" and len(calls) == 4


def test_kinds_and_file_lists_do_not_share_entries(tmp_path: Path) -> None:
    a, b = _old(tmp_path / "a", "a"), _old(tmp_path / "b", "b")
    root = tmp_path / "cache"
    assert remembered("one", [a], lambda: 1, root) == 1
    assert remembered("two", [a], lambda: 2, root) == 2
    assert remembered("one", [a, b], lambda: [3, {"x": 4}], root) == [3, {"x": 4}]
    assert remembered("one", [a], lambda: 0, root) == 1


def test_a_bad_entry_or_an_unwritable_cache_only_costs_the_answer(tmp_path: Path) -> None:
    tool = _old(tmp_path / "tool", "v1")
    root = tmp_path / "cache"
    assert remembered("version", [tool], lambda: "v1", root) == "v1"
    (entry,) = (root / "version").iterdir()
    entry.write_text("{not json")
    assert remembered("version", [tool], lambda: "fresh", root) == "fresh"
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert remembered("version", [tool], lambda: "v1", blocked) == "v1"  # <cache> is a file: nothing stored
    assert remembered("version", [tmp_path / "missing"], lambda: "none", root) == "none"
    assert not any(p.name.startswith(".tmp-") for p in (root / "version").iterdir())
