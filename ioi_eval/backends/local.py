"""The local backend: the executor runs in this process, isolating each run with namespaces."""

from __future__ import annotations

import logging
import os
import shutil
import stat
from pathlib import Path

import ioi_box
from ioi_box.executor import Executor
from ioi_box.isolation import Isolation, detect
from ioi_box.protocol import PROTOCOL_VERSION, BoxInfo

from ..cache import remembered
from ..errors import SandboxError
from .base import Box

log = logging.getLogger(__name__)


def host_toolchain() -> tuple[dict[str, str], dict[str, str]]:
    """This host's toolchain as a box describes it (:func:`ioi_box.server.toolchain`), keeping only the
    compilers a sandboxed run can see (under /usr): for another one the judge's language says why not.

    Remembered by the identity of the files it reads (the compilers, and the code that asks them): asking them
    costs every judge process two subprocesses (and importing the box server)."""
    gxx = shutil.which("g++")
    files = [Path(ioi_box.__file__).with_name("server.py"), *([Path(gxx).resolve()] if gxx else []),
             *([Path("/usr/bin/python3")] if Path("/usr/bin/python3").exists() else [])]
    tools, compilers = remembered("toolchain", files, _ask_toolchain)
    hidden = {lang for lang, path in compilers.items() if not path.startswith("/usr/")}
    return ({k: v for k, v in tools.items() if k not in hidden},
            {k: v for k, v in compilers.items() if k not in hidden})


def _ask_toolchain() -> tuple[dict[str, str], dict[str, str]]:
    from ioi_box.server import toolchain

    return toolchain()


class LocalBox(Executor):
    """The local backend's box: the in-box executor in this process, describing this host.

    A host file is stored under its identity, not its content (:meth:`put_file`): nothing is hashed, neither a
    package's tests nor the ~100 MB precompiled header, in any judge process. It ships no precompiled header
    (``info.pch_include`` is None): the compiler builds one with
    this host's compiler into its cache, for the flags in use.
    """

    def __init__(self, isolation: Isolation, note: str, workers: int | None = None) -> None:
        super().__init__(isolation=isolation, workers=workers)
        self.isolation_note = note
        tools, compilers = host_toolchain()
        self.info = BoxInfo(protocol=PROTOCOL_VERSION, workers=self.workers, isolation=isolation.name,
                            isolation_note=note, cgroups=dict(self.cgroups), tools=tools, compilers=compilers)

    @property
    def host_root(self) -> Path:
        """The executor's work root (blobs and scratch folders), on this machine."""
        return self.root

    def put_file(self, src: Path, executable: bool = False) -> str:
        """Store a host file under its identity (device, inode, size, mtime): a hard link or a copy, never hashed.

        The box runs in this process, so a blob's name only has to tell files apart, not prove their content to
        another machine: hashing it would cost every judge process about 1.5 ms per MB (a cold cache's ~100 MB
        precompiled header, a package's 50 MB of tests). A hard-linked blob is the file itself, whatever its name;
        a copied one (another mode, another file system) is named by what the file was when copied, and a file
        changed since has another size or mtime, hence another name. Not a regular file (a FIFO): by content.
        """
        real = os.path.realpath(src)  # a symlink is stored as its target (as the executor does)
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):
            return super().put_file(src, executable)
        name = f"i{st.st_dev:x}-{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"
        mode = 0o755 if executable else 0o644
        return self._store(name, lambda dst: self._link_or_copy(src, dst, mode), executable)


class LocalBackend:
    """Judge on this machine (bubblewrap + cgroups, or rlimits where those are unavailable)."""

    name = "local"

    def __init__(self, isolation: str | None = None) -> None:
        self.isolation = isolation

    def open(self, workers: int | None = None) -> Box:
        try:
            iso, note = detect(self.isolation)
        except RuntimeError as exc:  # $IOI_EVAL_ISOLATION unknown, or required and not working here
            raise SandboxError(str(exc)) from None
        log.debug("local box: %s", note)
        return LocalBox(iso, note, workers)
