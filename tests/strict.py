"""Skip-or-fail for tests that need an optional facility (a Docker engine, a browser, credentials).

On a developer machine a missing facility skips the test with its reason; in CI
(``IOI_EVAL_STRICT=1``) it fails, so a broken set-up can never pass as "all skipped".
"""

from __future__ import annotations

import os

import pytest


def strict() -> bool:
    """Whether missing facilities are failures (CI) rather than skips."""
    return os.environ.get("IOI_EVAL_STRICT") == "1"


def require(condition: bool, reason: str) -> None:
    """Skip (or, under ``IOI_EVAL_STRICT=1``, fail) the calling test unless ``condition`` holds."""
    if condition:
        return
    if strict():
        pytest.fail(f"{reason} (IOI_EVAL_STRICT=1)")
    pytest.skip(reason)
