"""Numbers read from environment variables (``$IOI_EVAL_E2B_SLOTS``, ``$IOI_EVAL_PROGRESS_INTERVAL``, ...).

:func:`env_number` is the one parser: unset or blank gives the caller's default; anything else must be a whole
number (``kind=int``) or a finite number (``kind=float``) within the caller's bound, else an :class:`EnvVarError`
names the variable, its value and what it must be (the CLI prints it as one line and exits 2).
"""

from __future__ import annotations

import math
import os
from typing import TypeVar

from .errors import EnvVarError

N = TypeVar("N", int, float)


def _expected(kind: type, minimum: float | None, positive: bool, unit: str) -> str:
    """``a positive whole number``, ``a number of seconds, 0 or more``, ..."""
    noun = ("whole number" if kind is int else "number") + (f" of {unit}" if unit else "")
    if positive:
        return f"a positive {noun}"
    if minimum is None:
        return f"a {noun}"
    return f"a {noun}, {'0' if minimum == 0 else f'{minimum:g}'} or more"


def env_number(name: str, default: N, *, kind: type[N] = int, minimum: float | None = None,
               positive: bool = False, unit: str = "") -> N:
    """``$name`` as a ``kind`` (int or float); ``default`` (as given, unchecked) when unset or blank.

    ``minimum`` is the least value allowed, ``positive`` asks for a value above 0 (for ``int``, the same as
    ``minimum=1``); ``unit`` (``"seconds"``) only words the error. Non-finite floats (``nan``, ``inf``) are refused.
    Raises :class:`~ioi_eval.errors.EnvVarError` naming the variable, the value and what is expected.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
        ok = math.isfinite(value) and (value > 0 or not positive) and (minimum is None or value >= minimum)
    except ValueError:
        ok = False
    if not ok:
        raise EnvVarError(f"${name} must be {_expected(kind, minimum, positive, unit)}, not {raw!r}")
    return value
