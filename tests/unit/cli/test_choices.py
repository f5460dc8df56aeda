"""The choices the command line offers are the registries' names (a choice added to a registry shows up)."""

from __future__ import annotations

import inspect
import typing

from ioi_eval.backends import BACKENDS
from ioi_eval.cli import common, leaderboard, rewards
from ioi_eval.cli.options import RUN_OPTIONS
from ioi_eval.judge.profile import PROFILES
from ioi_eval.report.formats import FORMATS
from ioi_eval.rewards.modes import CF_SCORINGS, MODES


def _choices(func, name: str) -> tuple[str, ...]:
    annotation = inspect.signature(func, eval_str=True).parameters[name].annotation
    return typing.get_args(typing.get_args(annotation)[0])


def test_choices_are_the_registries() -> None:
    assert typing.get_args(common.BackendName) == tuple(BACKENDS)
    assert typing.get_args(common.ProfileName) == tuple(PROFILES)
    assert _choices(leaderboard.leaderboard, "fmt") == FORMATS
    assert _choices(rewards.serve_rewards, "mode") == tuple(MODES)
    assert _choices(rewards.serve_rewards, "cf_scoring") == CF_SCORINGS
    assert typing.get_args(typing.get_args(RUN_OPTIONS["per"].annotation)[0]) == ("subtask", "problem")
    assert common.one_of(BACKENDS) == "one of: " + ", ".join(BACKENDS)
