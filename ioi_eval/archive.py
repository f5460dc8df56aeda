"""Unpacking untrusted zip archives (problem packages, output-only submissions) within caps.

Every member is checked before a byte is written: its name stays inside the destination (no ``..``, no
absolute path), it is a plain file or folder (no symlink, device, FIFO or socket), it is neither
encrypted nor compressed by a method Python cannot read, and the members' count and total
uncompressed size stay under caps, so a small zip that would expand to gigabytes is refused before
extraction. The caps come from the environment (:data:`MAX_BYTES_ENV`, :data:`MAX_MEMBERS_ENV`) or
their documented defaults. Reading a member never yields more than the size its header states (zipfile
enforces that), and the bytes written are counted again against the cap.
"""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .envvars import env_number
from .errors import IoiEvalError

MAX_BYTES_ENV = "IOI_EVAL_ARCHIVE_MAX_BYTES"
MAX_MEMBERS_ENV = "IOI_EVAL_ARCHIVE_MAX_MEMBERS"
DEFAULT_MAX_BYTES = 2 << 30  # 2 GiB uncompressed
DEFAULT_MAX_MEMBERS = 20_000

# What reading a broken member can raise: a bad CRC or header, an encrypted member, an unknown
# compression method, a corrupt deflate stream, a truncated file.
_READ_ERRORS = (zipfile.BadZipFile, RuntimeError, NotImplementedError, zlib.error, EOFError, OSError, ValueError)


@dataclass(frozen=True)
class Caps:
    """The most members and uncompressed bytes one archive may hold."""

    max_bytes: int
    max_members: int


def caps() -> Caps:
    """The caps in force: ``$IOI_EVAL_ARCHIVE_MAX_BYTES`` (default 2 GiB) and
    ``$IOI_EVAL_ARCHIVE_MAX_MEMBERS`` (default 20000)."""
    return Caps(env_number(MAX_BYTES_ENV, DEFAULT_MAX_BYTES, positive=True),
                env_number(MAX_MEMBERS_ENV, DEFAULT_MAX_MEMBERS, positive=True))


def _member_path(info: zipfile.ZipInfo) -> PurePosixPath | None:
    """The member's path relative to the destination; None when it would land outside it."""
    name = info.filename
    if "\0" in name or name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    rel = PurePosixPath(name.replace("\\", "/"))
    if ".." in rel.parts or (not rel.parts and not info.is_dir()):  # a file named "." or "" is the folder itself
        return None
    return rel


def _kind(info: zipfile.ZipInfo) -> str | None:
    """``None`` for a plain file or folder, else what the member is (from its Unix mode, when it has one)."""
    mode = info.external_attr >> 16
    if info.create_system != 3 or not mode:  # not made on Unix, or no mode: a plain file or folder
        return None
    kind = stat.S_IFMT(mode)
    if kind in (0, stat.S_IFREG, stat.S_IFDIR):
        return None
    names = {stat.S_IFLNK: "a symlink", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
             stat.S_IFIFO: "a FIFO", stat.S_IFSOCK: "a socket"}
    return names.get(kind, "a special file")


def check_members(zf: zipfile.ZipFile, path: Path, error: type[IoiEvalError],
                  limits: Caps | None = None) -> list[zipfile.ZipInfo]:
    """The archive's members, each checked (see the module doc); ``error`` names ``path`` and the defect."""
    limits = limits or caps()
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise error(f"{path}: the archive holds {len(infos)} members, over the cap of {limits.max_members} "
                    f"(${MAX_MEMBERS_ENV})")
    total = 0
    for info in infos:
        if _member_path(info) is None:
            raise error(f"{path}: archive member escapes the folder: {info.filename!r}")
        kind = _kind(info)
        if kind is not None:
            raise error(f"{path}: archive member {info.filename!r} is {kind}, not a plain file")
        if info.flag_bits & 0x1:
            raise error(f"{path}: archive member {info.filename!r} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                      zipfile.ZIP_LZMA):
            raise error(f"{path}: archive member {info.filename!r} uses an unsupported compression method "
                        f"({info.compress_type})")
        total += info.file_size
        if total > limits.max_bytes:
            raise error(f"{path}: the archive expands to more than the cap of {limits.max_bytes} bytes "
                        f"(${MAX_BYTES_ENV})")
    return infos


def _broken(path: Path, exc: BaseException, error: type[IoiEvalError]) -> IoiEvalError:
    return error(f"{path}: not a valid zip archive ({type(exc).__name__}: {exc})")


def _open(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, error: type[IoiEvalError]):
    try:
        return zf.open(info)
    except _READ_ERRORS as exc:
        raise _broken(path, exc, error) from None


def _read(src, size: int, path: Path, error: type[IoiEvalError]) -> bytes:
    try:
        return src.read(size)
    except _READ_ERRORS as exc:
        raise _broken(path, exc, error) from None


def _zipfile(path: Path, error: type[IoiEvalError]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except _READ_ERRORS as exc:
        raise _broken(path, exc, error) from None


def extract(path: Path, dest: Path, error: type[IoiEvalError]) -> None:
    """Extract the zip archive ``path`` into the existing folder ``dest``, member by member, within the caps.

    Files get the process's default mode (never a mode from the archive). A defect of the archive is
    ``error``; OSError escapes when ``dest`` cannot be written (a full or read-only disk).
    """
    limits = caps()
    with _zipfile(path, error) as zf:
        budget = limits.max_bytes
        for info in check_members(zf, path, error, limits):
            rel = _member_path(info)
            assert rel is not None  # checked above
            target = dest.joinpath(*rel.parts)
            if info.is_dir():
                try:
                    target.mkdir(parents=True, exist_ok=True)
                except (FileExistsError, NotADirectoryError):
                    raise error(f"{path}: archive folder {info.filename!r} is also a file member") from None
                continue
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except (FileExistsError, NotADirectoryError):
                raise error(f"{path}: archive member {info.filename!r} lies under a member that is a file") from None
            if target.is_dir():  # a folder and a file of the same name: the file wins, as with extractall
                shutil.rmtree(target)
            with _open(zf, info, path, error) as src, open(target, "wb") as dst:
                while chunk := _read(src, 1 << 20, path, error):
                    budget -= len(chunk)
                    if budget < 0:
                        raise error(f"{path}: the archive expands to more than the cap of {limits.max_bytes} "
                                    f"bytes (${MAX_BYTES_ENV})")
                    dst.write(chunk)


def read_members(path: Path, wanted: Callable[[zipfile.ZipInfo], bool],
                 error: type[IoiEvalError]) -> dict[str, bytes]:
    """The contents of the members ``wanted`` accepts, by member name, read within the caps."""
    limits = caps()
    out: dict[str, bytes] = {}
    with _zipfile(path, error) as zf:
        budget = limits.max_bytes
        for info in check_members(zf, path, error, limits):
            if info.is_dir() or not wanted(info):
                continue
            with _open(zf, info, path, error) as src:
                data = _read(src, budget + 1, path, error)
            budget -= len(data)
            if budget < 0:
                raise error(f"{path}: the archive expands to more than the cap of {limits.max_bytes} bytes "
                            f"(${MAX_BYTES_ENV})")
            out[info.filename] = data
    return out


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_MEMBERS", "MAX_BYTES_ENV", "MAX_MEMBERS_ENV", "Caps", "caps",
           "check_members", "extract", "read_members"]
