"""env_number: the one parser of numbers from environment variables."""

from __future__ import annotations

import pytest

from ioi_eval.envvars import env_number
from ioi_eval.errors import EnvVarError, IoiEvalError

NAME = "IOI_EVAL_TEST_NUMBER"


def test_unset_or_blank_gives_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NAME, raising=False)
    assert env_number(NAME, 7) == 7
    assert env_number(NAME, 2.5, kind=float, positive=True) == 2.5
    for blank in ("", "  ", "\t"):
        monkeypatch.setenv(NAME, blank)
        assert env_number(NAME, 7, positive=True) == 7


def test_good_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, kind, want in (("3", int, 3), (" 12 ", int, 12), ("-4", int, -4), ("0", int, 0), ("1_000", int, 1000),
                            ("2.5", float, 2.5), ("1e3", float, 1000.0), ("0", float, 0.0), ("7", float, 7.0)):
        monkeypatch.setenv(NAME, raw)
        got = env_number(NAME, 99 if kind is int else 9.5, kind=kind)
        assert got == want and type(got) is kind, raw


def test_garbage_is_a_clear_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, kind, expected in (("x", int, "a whole number"), ("2.5", int, "a whole number"),
                                ("1e3", int, "a whole number"), ("soon", float, "a number of seconds"),
                                ("nan", float, "a number of seconds"), ("inf", float, "a number of seconds"),
                                ("-inf", float, "a number of seconds")):
        monkeypatch.setenv(NAME, raw)
        with pytest.raises(EnvVarError) as info:
            env_number(NAME, 1, kind=kind, unit="seconds" if kind is float else "")
        assert str(info.value) == f"${NAME} must be {expected}, not {raw!r}"
        assert isinstance(info.value, IoiEvalError)  # the CLI's one-line exit-2 error


def test_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    cases = (  # raw, options, what the error says it expects (None: accepted)
        ("0", {"positive": True}, "a positive whole number"),
        ("-1", {"positive": True}, "a positive whole number"),
        ("1", {"positive": True}, None),
        ("0", {"kind": float, "positive": True, "unit": "seconds"}, "a positive number of seconds"),
        ("0.001", {"kind": float, "positive": True}, None),
        ("-0.5", {"kind": float, "minimum": 0, "unit": "seconds"}, "a number of seconds, 0 or more"),
        ("0", {"kind": float, "minimum": 0}, None),
        ("2", {"minimum": 3}, "a whole number, 3 or more"),
        ("3", {"minimum": 3}, None),
    )
    for raw, options, expected in cases:
        monkeypatch.setenv(NAME, raw)
        if expected is None:
            assert env_number(NAME, 42, **options) == float(raw)
        else:
            with pytest.raises(EnvVarError, match=rf"^\${NAME} must be {expected}, not '{raw}'$"):
                env_number(NAME, 42, **options)


def test_the_default_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's default is returned as given, even outside the bounds a user's value must keep."""
    monkeypatch.delenv(NAME, raising=False)
    assert env_number(NAME, 0, positive=True) == 0
