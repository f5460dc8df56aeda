"""FileDigests: a file's sha256 is hashed once across processes, and a changed file never reuses a stale one."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from ioi_eval import digests
from ioi_eval.digests import FileDigests


@pytest.fixture
def hashed(monkeypatch) -> list[Path]:
    """The files actually read and hashed (each call of sha256_file)."""
    calls: list[Path] = []
    real = digests.sha256_file

    def counting(path: Path) -> str:
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(digests, "sha256_file", counting)
    return calls


BIG = digests.SMALL_BYTES  # smaller files are hashed every time (cheaper than a lookup)


def settled(path: Path, data: bytes, age_s: float = 60.0) -> Path:
    """Write ``data`` and date the file ``age_s`` seconds back (a package file, not one being written)."""
    path.write_bytes(data)
    t = time.time_ns() - int(age_s * 1e9)
    os.utime(path, ns=(t, t))
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_remembered_across_instances(tmp_path: Path, hashed: list[Path]) -> None:
    f = settled(tmp_path / "1.in", (b"1 2 3\n" * BIG))
    assert FileDigests(tmp_path / "c").digest(f) == sha(b"1 2 3\n" * BIG)
    assert FileDigests(tmp_path / "c").digest(f) == sha(b"1 2 3\n" * BIG)  # a new process: same cache
    assert len(hashed) == 1
    link = tmp_path / "link.in"
    link.symlink_to(f.name)  # a symlink is its target's content, remembered under its own path
    assert FileDigests(tmp_path / "c").digest(link) == sha(b"1 2 3\n" * BIG)
    assert FileDigests(tmp_path / "c").digest(link) == sha(b"1 2 3\n" * BIG) and len(hashed) == 2
    other = settled(tmp_path / "other.in", b"other" * BIG)
    link.unlink()
    link.symlink_to(other.name)  # pointed elsewhere: the target's identity differs
    assert FileDigests(tmp_path / "c").digest(link) == sha(b"other" * BIG) and len(hashed) == 3


def test_changed_file_is_hashed_again(tmp_path: Path, hashed: list[Path]) -> None:
    cache = FileDigests(tmp_path / "c")
    f = settled(tmp_path / "1.in", (b"a" * BIG), age_s=60)
    assert cache.digest(f) == sha(b"a" * BIG)
    settled(f, (b"b" * BIG), age_s=30)  # same size, same inode, another mtime
    assert cache.digest(f) == sha(b"b" * BIG)
    # replaced by another file of the same size and the same mtime: another inode
    new = settled(tmp_path / "new", (b"c" * BIG), age_s=30)
    st = os.stat(f)
    os.utime(new, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(new, f)
    assert cache.digest(f) == sha(b"c" * BIG)
    assert len(hashed) == 3


def test_a_file_written_just_now_is_not_remembered(tmp_path: Path, hashed: list[Path]) -> None:
    """Coarse fs timestamps: a same-size rewrite within the same tick would keep the mtime."""
    cache = FileDigests(tmp_path / "c")
    f = tmp_path / "fresh.in"
    f.write_bytes(b"x" * BIG)
    assert cache.digest(f) == sha(b"x" * BIG)
    st = os.stat(f)
    f.write_bytes(b"y" * BIG)
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # the rewrite kept the mtime
    assert cache.digest(f) == sha(b"y" * BIG)
    assert len(hashed) == 2


def test_bad_or_unwritable_cache_only_costs_a_hash(tmp_path: Path, hashed: list[Path]) -> None:
    f = settled(tmp_path / "1.in", (b"d" * BIG))
    cache = FileDigests(tmp_path / "c")
    cache.digest(f)
    (entry,) = [p for p in (tmp_path / "c").rglob("*") if p.is_file()]
    entry.write_text("not a digest")
    assert cache.digest(f) == sha(b"d" * BIG) and len(hashed) == 2
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be")
    assert FileDigests(blocked).digest(f) == sha(b"d" * BIG)
    with pytest.raises(FileNotFoundError):
        cache.digest(tmp_path / "missing")


def test_small_files_are_hashed_every_time(tmp_path: Path, hashed: list[Path]) -> None:
    f = settled(tmp_path / "small.in", b"5\n")
    assert FileDigests(tmp_path / "c").digest(f) == FileDigests(tmp_path / "c").digest(f) == sha(b"5\n")
    assert len(hashed) == 2 and not (tmp_path / "c").exists()
