"""A text-safe armour for the server's output stream (``python3 -m ioi_box.server --base64-out``).

Some transports only carry a process's stdout as text: E2B's command API decodes it as UTF-8 and
replaces undecodable bytes, which would corrupt raw frames. With ``--base64-out`` every flush of
the server's output becomes one line ``IB64:<base64 of the bytes>\\n``; the host turns the lines
back into the same byte stream and reads frames from it as usual (:mod:`ioi_box.wire`). Lines
without the prefix (e.g. a login shell's chatter before the server starts) are not protocol data:
the host keeps them for error messages and skips them. Input needs no armour when the transport
passes bytes to stdin unchanged (E2B's ``send_stdin`` does).
"""

from __future__ import annotations

import base64
import binascii
from typing import BinaryIO

LINE_PREFIX = b"IB64:"


class Base64LineWriter:
    """Wraps a binary stream: what is written between two flushes goes out as one armoured line."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._buf = bytearray()

    def write(self, data: bytes) -> int:
        """Buffer ``data`` until the next flush."""
        self._buf += data
        return len(data)

    def flush(self) -> None:
        """Send the buffered bytes as one line (nothing when the buffer is empty)."""
        if self._buf:
            line = LINE_PREFIX + base64.b64encode(bytes(self._buf)) + b"\n"
            self._buf.clear()
            self._out.write(line)
        self._out.flush()

    def close(self) -> None:
        """Flush and close the underlying stream."""
        self.flush()
        self._out.close()


def decode_line(line: str | bytes) -> bytes | None:
    """The bytes an armoured line carries, or None when the line is not protocol data.

    Raises ValueError for a line with the prefix whose base64 is damaged (the stream is lost).
    """
    raw = line.encode() if isinstance(line, str) else line
    raw = raw.rstrip(b"\r\n")
    if not raw.startswith(LINE_PREFIX):
        return None
    try:
        return base64.b64decode(raw[len(LINE_PREFIX):], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"damaged armoured line ({len(raw)} bytes): {exc}") from None
