"""Untrusted zips within caps (ioi_eval/archive.py): packages and output-only submissions."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from ioi_eval import archive
from ioi_eval.errors import IoiEvalError, PackageError
from ioi_eval.judge.submission import Submission


def _zip(path: Path, members: dict[str, bytes], modes: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if modes and name in modes:
                info.create_system = 3
                info.external_attr = modes[name] << 16
            zf.writestr(info, data)
    return path


def test_extracts_plain_members_with_default_modes(tmp_path: Path) -> None:
    z = _zip(tmp_path / "p.zip", {"p/a.txt": b"a", "p/sub/": b"", "p/sub/b.txt": b"b", "p/run": b"x"},
             {"p/run": stat.S_IFREG | 0o6777})
    dest = tmp_path / "out"
    dest.mkdir()
    archive.extract(z, dest, PackageError)
    assert (dest / "p/a.txt").read_bytes() == b"a" and (dest / "p/sub/b.txt").read_bytes() == b"b"
    assert not (dest / "p/run").stat().st_mode & (stat.S_ISUID | stat.S_ISGID | 0o111)  # never the archive's mode


@pytest.mark.parametrize(("members", "modes", "needle"), [
    ({"../x": b"x"}, None, "escapes the folder"),
    ({"/etc/x": b"x"}, None, "escapes the folder"),
    ({"C:/x": b"x"}, None, "escapes the folder"),
    ({"a\\..\\..\\x": b"x"}, None, "escapes the folder"),
    ({"link": b"/etc/passwd"}, {"link": stat.S_IFLNK | 0o777}, "'link' is a symlink"),
    ({"dev": b""}, {"dev": stat.S_IFBLK | 0o600}, "'dev' is a block device"),
    ({"sock": b""}, {"sock": stat.S_IFSOCK | 0o600}, "'sock' is a socket"),
])
def test_refuses_hostile_members_before_writing(tmp_path: Path, members: dict, modes: dict | None,
                                                needle: str) -> None:
    z = _zip(tmp_path / "p.zip", {"ok.txt": b"fine", **members}, modes)
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(PackageError, match=needle):
        archive.extract(z, dest, PackageError)
    assert not any(dest.iterdir())  # checked before a byte is written


def test_caps_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(archive.MAX_BYTES_ENV, raising=False)
    monkeypatch.delenv(archive.MAX_MEMBERS_ENV, raising=False)
    assert archive.caps() == archive.Caps(2 << 30, 20_000)
    z = _zip(tmp_path / "p.zip", {f"f{i}": bytes(1000) for i in range(5)})
    monkeypatch.setenv(archive.MAX_MEMBERS_ENV, "4")
    with pytest.raises(PackageError, match=r"5 members, over the cap of 4 \(\$IOI_EVAL_ARCHIVE_MAX_MEMBERS\)"):
        archive.extract(z, tmp_path, PackageError)
    monkeypatch.setenv(archive.MAX_MEMBERS_ENV, "5")
    monkeypatch.setenv(archive.MAX_BYTES_ENV, "4999")
    with pytest.raises(PackageError, match=r"more than the cap of 4999 bytes \(\$IOI_EVAL_ARCHIVE_MAX_BYTES\)"):
        archive.extract(z, tmp_path, PackageError)
    monkeypatch.setenv(archive.MAX_BYTES_ENV, "5000")
    archive.extract(z, tmp_path, PackageError)
    monkeypatch.setenv(archive.MAX_BYTES_ENV, "-1")
    with pytest.raises(IoiEvalError, match=r"\$IOI_EVAL_ARCHIVE_MAX_BYTES must be a positive whole number, not '-1'"):
        archive.caps()


def test_a_member_larger_than_its_header_says_is_never_read_past_it(tmp_path: Path) -> None:
    z = _zip(tmp_path / "p.zip", {"big": bytes(100_000)})
    data = bytearray(z.read_bytes())
    central = data.find(b"PK\x01\x02")
    data[central + 24:central + 28] = (10).to_bytes(4, "little")  # the central header claims 10 bytes
    z.write_bytes(bytes(data))
    with pytest.raises(PackageError, match="not a valid zip archive"):
        archive.extract(z, tmp_path, PackageError)


def test_output_only_zip_submissions_are_read_within_the_caps(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    z = _zip(tmp_path / "outs.zip", {"output_01.txt": b"1\n", "sub/output_02.txt": b"2\n", "notes.md": b"x"})
    assert Submission.from_outputs(z).outputs == {"01": b"1\n", "02": b"2\n"}
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("output_01.txt", bytes(4 << 20))  # 4 MiB of zeros: a few KiB on disk
    monkeypatch.setenv(archive.MAX_BYTES_ENV, str(1 << 20))
    with pytest.raises(IoiEvalError, match=r"bomb\.zip: the archive expands to more than the cap"):
        Submission.from_outputs(bomb)
    link = _zip(tmp_path / "link.zip", {"output_01.txt": b"/etc/shadow"}, {"output_01.txt": stat.S_IFLNK | 0o777})
    with pytest.raises(IoiEvalError, match="is a symlink"):
        Submission.from_outputs(link)


@pytest.mark.parametrize("members", [{".": b"x"}, {"a": b"x", "a/b": b"y"}])
def test_a_member_that_is_the_folder_or_under_a_file_is_a_clean_error(tmp_path: Path, members: dict) -> None:
    z = _zip(tmp_path / "p.zip", members)
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep").write_text("earlier")
    with pytest.raises(PackageError):
        archive.extract(z, dest, PackageError)
    assert dest.is_dir() and (dest / "keep").read_text() == "earlier"
