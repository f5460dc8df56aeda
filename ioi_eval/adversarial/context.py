"""What the suite knows about its own surroundings, and what a case's extra check receives.

The suite builds everything a hostile program might aim at on the host (the package with its
expected outputs, a compile cache, canary files, loopback listeners, fake secrets in the harness
environment) and describes it in a :class:`SuiteInfo`. Case sources name these things through
placeholders (``@TCP_PORT@``, ``@PACKAGE_DIR@``...) so a program attacks the real paths and ports of
this run; :meth:`SuiteInfo.placeholders` gives their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..judge.results import JudgeReport

# Every fake secret the suite puts in the harness environment carries this marker in its value.
SECRET_MARK = "ioi-adv-secret"
# Files a hostile program tries to create on the host are named with this prefix.
EVIL_PREFIX = "ioi-adv-evil"


@dataclass(frozen=True)
class SuiteInfo:
    """The host-side things one suite run created or uses, as a hostile program would want them."""

    package_dir: Path
    cache_dir: Path
    box_root: Path | None  # the executor's work root on the host (local backend), else None
    harness_cwd: Path
    harness_pid: int
    canary_dir: Path
    tcp_port: int
    udp_port: int
    unix_name: str  # an abstract unix socket name (without the leading NUL)
    secrets: dict[str, str] = field(default_factory=dict)  # environment variable -> fake secret value
    answers: dict[str, str] = field(default_factory=dict)  # test name -> expected output

    def placeholders(self) -> dict[str, str]:
        """Values of the ``@NAME@`` placeholders that case sources may use."""
        return {
            "PACKAGE_DIR": str(self.package_dir),
            "CACHE_DIR": str(self.cache_dir),
            "BOX_ROOT": str(self.box_root or "/tmp/ioi-eval-0"),
            "HARNESS_CWD": str(self.harness_cwd),
            "HARNESS_PID": str(self.harness_pid),
            "CANARY_DIR": str(self.canary_dir),
            "TCP_PORT": str(self.tcp_port),
            "UDP_PORT": str(self.udp_port),
            "UNIX_NAME": self.unix_name,
            "SECRET_MARK": SECRET_MARK,
            "EVIL": EVIL_PREFIX,
        }


@dataclass(frozen=True)
class CheckContext:
    """What a case's extra ``check`` receives after the case was judged."""

    info: SuiteInfo
    report: JudgeReport | None  # None when the judge raised instead of answering

    def messages(self) -> str:
        """Everything the judge said about the submission (compile message and test messages)."""
        if self.report is None:
            return ""
        parts = [self.report.compile.message, *(t.message for t in self.report.tests)]
        return "\n".join(parts)
