"""Framing of the remote protocol: length-prefixed frames on a byte stream.

A frame is ``b"IB"``, the JSON header's length (u32, big-endian), the payload's length (u64), the
JSON header, then the payload (raw bytes: file contents travel unencoded). The magic catches a
stream that lost sync (e.g. a stray write to the server's stdout) at the first frame it spoils.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Protocol

MAGIC = b"IB"
HEADER = struct.Struct(">2sIQ")
MAX_HEADER = 256 << 20
MAX_PAYLOAD = 16 << 30
_SMALL = 1 << 16  # frames up to this size go out in one write


class WireError(Exception):
    """The stream does not carry valid frames (lost sync, truncated, oversized)."""


class Reader(Protocol):
    """Anything with a blocking ``read(n)`` (a pipe, a socket file)."""

    def read(self, n: int, /) -> bytes: ...


def write_frame(f: BinaryIO, header: bytes, payload: bytes = b"") -> None:
    """Write one frame and flush it."""
    head = HEADER.pack(MAGIC, len(header), len(payload))
    if len(header) + len(payload) <= _SMALL:
        f.write(head + header + payload)
    else:
        f.write(head + header)
        f.write(payload)
    f.flush()


def _read_exact(f: Reader, n: int) -> bytes:
    chunks = []
    left = n
    while left:
        chunk = f.read(left)
        if not chunk:
            raise WireError(f"stream ended inside a frame ({n - left} of {n} bytes)")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(f: Reader) -> tuple[bytes, bytes] | None:
    """Read one frame: ``(header, payload)``, or None at a clean end of stream."""
    first = f.read(HEADER.size)
    if not first:
        return None
    if len(first) < HEADER.size:
        first += _read_exact(f, HEADER.size - len(first))
    magic, hlen, plen = HEADER.unpack(first)
    if magic != MAGIC:
        raise WireError(f"bad frame magic {magic!r}: the stream lost sync")
    if hlen > MAX_HEADER or plen > MAX_PAYLOAD:
        raise WireError(f"oversized frame (header {hlen} bytes, payload {plen} bytes)")
    header = _read_exact(f, hlen)
    payload = _read_exact(f, plen) if plen else b""
    return header, payload
