"""The local backend: the executor runs in this process, isolating each run with namespaces."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import ioi_box
from ioi_box.executor import Executor
from ioi_box.isolation import Isolation, detect
from ioi_box.protocol import PROTOCOL_VERSION, BoxInfo

from ..cache import remembered
from ..digests import FileDigests
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

    A host file's digest is remembered across processes (:class:`~ioi_eval.digests.FileDigests`), so a
    package's tests are hashed once, not by every judge process. It ships no precompiled header
    (``info.pch_include`` is None): the compiler builds one with
    this host's compiler into its cache, for the flags in use.
    """

    def __init__(self, isolation: Isolation, note: str, workers: int | None = None) -> None:
        super().__init__(isolation=isolation, workers=workers, digest_file=FileDigests().digest)
        self.isolation_note = note
        tools, compilers = host_toolchain()
        self.info = BoxInfo(protocol=PROTOCOL_VERSION, workers=self.workers, isolation=isolation.name,
                            isolation_note=note, cgroups=dict(self.cgroups), tools=tools, compilers=compilers)

    @property
    def host_root(self) -> Path:
        """The executor's work root (blobs and scratch folders), on this machine."""
        return self.root


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
