"""Judge profiles: strict CMS judging (the default), or another judge's behaviour reproduced.

open-r1 judged its IOI and Codeforces data with Piston packages that differ from CMS in a few
places (see ``docs/sources.md``). A profile switches exactly those differences, so that a user can
reproduce published numbers (``piston``, ``codeforces``) or get the stricter judgement (``cms``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import IoiEvalError
from .languages import CPP_FLAGS


class JudgeProfile(BaseModel):
    """How contestant code is compiled, timed and compared."""

    model_config = ConfigDict(frozen=True)

    name: str = "cms"
    cpp_flags: tuple[str, ...] = Field(
        CPP_FLAGS,
        description="flags of contestant C++ compiles (the problem's own defines are added)")
    time: Literal["cpu", "wall"] = Field(
        "cpu", description="cpu: CPU time against the limit (wall backstop 2*TL+1, as CMS); "
                           "wall: wall-clock time against the limit (``timeout TL``, as Piston)")
    comparator: Literal["diff_b", "cf_lenient"] | None = Field(
        None, description="replaces the package's standard checker when it has no checker program")
    add_includes: bool = Field(
        False, description="prepend open-r1's add_includes to C++ submissions (bits/stdc++.h, the task "
                           "header, using namespace std)")


PROFILES: dict[str, JudgeProfile] = {
    "cms": JudgeProfile(),
    # open-r1's IOI reward: add_includes, then the ``cms_ioi`` Piston package: no -static, wall-clock
    # limit, diff -b without a checker.
    "piston": JudgeProfile(name="piston", cpp_flags=("-DEVAL", "-std=gnu++17", "-O2", "-pipe", "-s"),
                           time="wall", comparator="diff_b", add_includes=True),
    # open-r1's ``codeforces`` Piston package (c++17): its flags, wall-clock limit, lenient comparison.
    "codeforces": JudgeProfile(name="codeforces", cpp_flags=("-DONLINE_JUDGE", "-O2", "-std=c++17", "-pipe", "-s"),
                               time="wall", comparator="cf_lenient"),
}


def get_profile(name: str | JudgeProfile | None) -> JudgeProfile:
    """The profile registered under ``name`` (None: strict CMS)."""
    if isinstance(name, JudgeProfile):
        return name
    if name is None:
        return PROFILES["cms"]
    try:
        return PROFILES[name]
    except KeyError:
        raise IoiEvalError(f"unknown judge profile {name!r}; known: {', '.join(PROFILES)}") from None
