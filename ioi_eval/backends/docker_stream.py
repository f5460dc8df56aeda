"""A judge container's data stream over the docker SDK's attach socket: no ``docker`` binary, no client process.

The engine multiplexes a non-TTY container's stdout and stderr on the socket (each chunk behind an 8-byte header:
the stream, three zero bytes, the length as a big-endian u32); :class:`Demux` hands the frames of stdout to the
channel's reader and stderr's bytes to a sink. Writes go to the container's stdin; closing the write side ends its
input, so the server exits. bench/RESULTS.md ("Docker data stream") measured this socket against the pipes of
``docker run -i``.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Callable
from typing import Any

_HEAD = struct.Struct(">BxxxL")


def raw_socket(attached: Any) -> socket.socket:
    """The socket under what ``APIClient.attach_socket`` returns (a ``SocketIO`` on a Unix or TCP socket), blocking
    with no timeout: the client's request timeout stays on it otherwise, and a test (or an idle pooled container)
    quiet for that long would read as a broken box."""
    sock = getattr(attached, "_sock", attached)
    sock.settimeout(None)
    return sock


class Demux:
    """The read side: ``read(n)`` gives stdout's bytes (b"" at the end), stderr goes to ``on_stderr``."""

    def __init__(self, sock: socket.socket, on_stderr: Callable[[bytes], None]) -> None:
        self.sock = sock
        self.on_stderr = on_stderr
        self._raw = bytearray()
        self._out = bytearray()

    def _fill(self, n: int) -> bool:
        """At least ``n`` raw bytes buffered; False when the socket ended first."""
        while len(self._raw) < n:
            chunk = self.sock.recv(max(1 << 16, n - len(self._raw)))
            if not chunk:
                return False
            self._raw += chunk
        return True

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes of stdout (b"" once the stream has ended)."""
        while not self._out:
            if not self._fill(_HEAD.size):
                return b""
            kind, size = _HEAD.unpack_from(self._raw)
            if not self._fill(_HEAD.size + size):
                return b""
            payload = bytes(self._raw[_HEAD.size:_HEAD.size + size])
            del self._raw[:_HEAD.size + size]
            if kind == 1:
                self._out += payload
            elif kind == 2:
                self.on_stderr(payload)
        out = bytes(self._out[:n])
        del self._out[:n]
        return out


class Writer:
    """The write side: the container's stdin."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def write(self, data: bytes) -> int:
        self.sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def close(self) -> None:
        """End the container's input (the server exits at its end)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
