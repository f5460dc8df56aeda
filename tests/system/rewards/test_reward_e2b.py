"""``CodeReward`` on a remote backend by its name alone: E2B at the SDK boundary (the real in-box server behind
``tests.fixtures.e2b_fake``), where a sandbox lost for good is a fault (None), not a zero."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ioi_eval.backends import e2b
from ioi_eval.backends.e2b import Backoff
from ioi_eval.rewards import CodeReward
from tests.conftest import PROBLEMS
from tests.fixtures.e2b_fake import FakeE2B

OK = (PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp").read_text()
WRONG = (PROBLEMS / "pairsum" / "solutions" / "incorrect" / "pairsum_garbage.cpp").read_text()


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeE2B]:
    monkeypatch.setenv("E2B_API_KEY", "e2b_test_key")
    monkeypatch.setenv("IOI_EVAL_E2B_CREATE_RATE", "1000")  # E2B's pace is tested on its own
    monkeypatch.delenv("IOI_EVAL_E2B_ISOLATION", raising=False)
    fake = FakeE2B()
    yield fake
    e2b.kill_leftovers()
    fake.cleanup()


def reward(sdk: FakeE2B) -> CodeReward:
    options = {"sdk": sdk, "isolation": None, "slots_per_sandbox": 1,
               "backoff": Backoff(attempts=2, sleep=lambda s: None, rand=lambda: 0.5)}
    return CodeReward(str(PROBLEMS), mode="binary", backend="e2b", workers=1, backend_options=options,
                      min_fault_samples=100)


def test_e2b_backend_by_name(sdk: FakeE2B) -> None:
    with reward(sdk) as r:
        assert r(completions=[f"```cpp\n{OK}\n```", f"```cpp\n{WRONG}\n```"], problem_id=["pairsum"] * 2) == [1.0, 0.0]
    assert not sdk.live  # closing the reward released its sandboxes


def test_e2b_sandbox_lost_for_good_is_none(sdk: FakeE2B) -> None:
    def lose_on_tests(sbx, data: bytes):
        if b'"op":"execute"' in data and b'"stdin":"blobs/' in data:  # the tests, not the compile
            sbx.lose()
        return None

    with reward(sdk) as r:
        sdk.stdin_fault = lose_on_tests
        metrics: dict[str, float] = {}
        got = r(completions=[f"```cpp\n{OK}\n```", "no code"], problem_id=["pairsum"] * 2,
                log_metric=metrics.__setitem__)
        assert got == [None, 0.0] and metrics["code_reward/faults"] == 0.5
