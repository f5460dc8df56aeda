"""``CodeReward`` on the real local box: row shapes (bundled packages, open-r1's IOI and Codeforces datasets through
``hf:``, inline ``verification_info``), dedup, the wall budget, faults, pickling, misconfiguration and verl."""

from __future__ import annotations

import asyncio
import json
import pickle
import time

import pytest

from ioi_eval.errors import RewardConfigError, RewardFaultError
from ioi_eval.rewards import AsyncCodeReward, CodeReward, compute_score
from ioi_eval.rewards.reward import Sample
from tests.conftest import PROBLEMS
from tests.fixtures import openr1_fixtures as fx
from tests.fixtures.breaking_backend import BreakingBackend

OK = (PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp").read_text()
SAME_INDEX = (PROBLEMS / "pairsum" / "solutions" / "incorrect" / "pairsum_same_index.cpp").read_text()
PY_OK = (PROBLEMS / "pairsum" / "solutions" / "correct" / "pairsum.py").read_text()
SUM = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}"
INFO = {"language": "cpp", "test_cases": [{"input": "2 3\n", "output": "5\n", "type": "stdin_stdout"},
                                          {"input": "4 4\n", "output": "8\n", "type": "stdin_stdout"}]}


def fence(code: str, lang: str = "cpp") -> str:
    return f"<think>let me think</think>\nSolution:\n```{lang}\n{code}\n```"


@pytest.fixture(scope="module")
def reward():
    with CodeReward(str(PROBLEMS), mode="ioi") as r:
        yield r


def test_ioi_mode_on_bundled_rows(reward: CodeReward) -> None:
    completions = [fence(OK), fence(SAME_INDEX), fence(SAME_INDEX), fence(SAME_INDEX), "no code at all",
                   [{"role": "assistant", "content": fence(PY_OK, "python")}]]
    rewards = reward(prompts=["p"] * 6, completions=completions, problem_id=["pairsum"] * 6,
                     subtask=[None, None, "01-small", "03-full", None, None],
                     language=[None, None, None, None, None, "python"])
    assert rewards == [1.0, 0.55, 1.0, 0.0, 0.0, 1.0]  # expected.json: same_index scores 55 of 100


def test_duplicates_are_judged_once_and_remembered(reward: CodeReward) -> None:
    metrics: dict[str, float] = {}
    extra: dict[str, list] = {}
    marker = f"// run {time.time_ns()}\n"  # code never seen by the reward's memory
    completions = [fence(marker + OK)] * 10 + [fence(marker + SAME_INDEX)] * 6
    rewards = reward(completions=completions, id=["pairsum"] * 16, log_metric=metrics.__setitem__,
                     log_extra=extra.__setitem__)
    assert rewards == [1.0] * 10 + [0.55] * 6
    assert metrics["code_reward/reused"] == pytest.approx(14 / 16)  # two distinct codes judged
    assert metrics["code_reward/faults"] == 0.0
    assert extra["code_reward/verdict"] == ["AC"] * 10 + ["WA 3-02"] * 6
    reward(completions=completions[:2], id=["pairsum"] * 2, log_metric=metrics.__setitem__)
    assert metrics["code_reward/reused"] == 1.0  # remembered from the previous call


def test_async_call_matches_sync(reward: CodeReward) -> None:
    completions = [fence(OK), fence(SAME_INDEX)]
    expected = reward(completions=completions, problem_id=["pairsum", "pairsum"])
    assert asyncio.run(reward.acall(completions=completions, problem_id=["pairsum", "pairsum"])) == expected


def test_pickle_round_trip(reward: CodeReward) -> None:
    copy = pickle.loads(pickle.dumps(reward))
    try:
        assert copy.__name__ == "code_reward" and copy.mode.name == "ioi"
        assert copy(completions=[fence(SAME_INDEX)], problem_id=["pairsum"]) == [0.55]
    finally:
        copy.close()
    async_reward = pickle.loads(pickle.dumps(AsyncCodeReward(str(PROBLEMS), mode="binary")))
    try:
        assert asyncio.run(async_reward(completions=[fence(OK)], problem_id=["pairsum"])) == [1.0]
    finally:
        async_reward.close()


def test_inline_verification_info_is_exact() -> None:
    prefix = "#include <cstdio>\nint main(){long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld 0\\n\",a+b);}"
    with CodeReward(None, mode="partial") as r:
        info_json = json.dumps(INFO)
        got = r(completions=[fence(SUM), fence(prefix), fence("print(sum(map(int, input().split())))", "python")],
                verification_info=[INFO, info_json, {**INFO, "language": "python"}])
        assert got == [1.0, 0.0, 1.0]  # an output that merely starts with the expected one does not pass
        with pytest.raises(RewardConfigError, match="function_call"):
            bad = {"test_cases": [{"input": "", "output": "", "type": "function_call"}]}
            r(completions=["x"], verification_info=[bad])


def test_openr1_ioi_and_codeforces_rows(tmp_path, monkeypatch) -> None:
    pytest.importorskip("datasets")
    monkeypatch.setenv("IOI_EVAL_CACHE", str(tmp_path / "cache"))
    ioi = fx.save_ioi_dataset(tmp_path)
    rows = fx.ioi_rows()
    with CodeReward(f"hf:{ioi}", mode="ioi") as r:
        n = len(rows)
        got = r(completions=[fence(fx.SUMAB_INT)] * n, **{k: [row[k] for row in rows] for k in ("id", "subtask")})
        # int overflow fails only 2-01, which only the full subtask holds
        assert dict(zip([row["subtask"] for row in rows], got, strict=True)) == {
            "00-samples": 1.0, "01-small": 1.0, "02-full": 0.0}
        assert r(completions=[fence(fx.SUMAB_OK)], id=["sumab"]) == [1.0]
    cf = fx.save_cf_dataset(tmp_path)
    with CodeReward(f"hf:{cf}", mode="codeforces", cf_scoring="partial") as r:
        rows = [{"id": "1/A"}, {"id": "1/A"}, {"id": "1/B"}]
        parity = "#include <cstdio>\nint main(){FILE*f=fopen(\"input.txt\",\"r\");int n;fscanf(f,\"%d\",&n);" \
                 "FILE*o=fopen(\"output.txt\",\"w\");fprintf(o,n%2?\"NO\\n\":\"YES\\n\");}"
        wrong = "#include <cstdio>\nint main(){puts(\"0\");}"
        got = r(completions=[fence(SUM), fence(wrong), fence(parity)], id=[row["id"] for row in rows])
        assert got[0] == 1.0 and got[2] == 1.0
        assert got[1] == pytest.approx(1 / 4)  # 1 of the 4 tests of 1/A (official + generated) expects 0


def test_budget_returns_none_for_what_did_not_finish() -> None:
    slow = "#include <cstdio>\n#include <ctime>\nint main(){volatile long x=0;while(clock()<1.0*CLOCKS_PER_SEC)x++;" \
           "long long a,b;scanf(\"%lld %lld\",&a,&b);printf(\"%lld\\n\",a+b);}" + f"// {time.time_ns()}"
    with CodeReward(None, mode="binary", budget_s=0.5, min_fault_samples=100) as r:
        metrics: dict[str, float] = {}
        got = r(completions=[fence(slow), "no code"], verification_info=[INFO, INFO], log_metric=metrics.__setitem__)
        assert got == [None, 0.0]
        assert metrics["code_reward/timeouts"] == 0.5
        deadline = time.monotonic() + 60
        while r._inflight and time.monotonic() < deadline:  # the judging went on in the background
            time.sleep(0.2)
        assert r(completions=[fence(slow)], verification_info=[INFO]) == [1.0]


def test_faults_are_none_and_a_window_of_them_raises() -> None:
    backend = BreakingBackend(broken=True)
    with CodeReward(str(PROBLEMS), mode="binary", backend=backend, min_fault_samples=3, max_fault_share=0.5) as r:
        assert r(completions=[fence(OK), "no code"], problem_id=["pairsum"] * 2) == [None, 0.0]
        with pytest.raises(RewardFaultError, match=r"2 of the last 3 rewards were judge faults.*box lost"):
            r(completions=[fence(SAME_INDEX)], problem_id=["pairsum"])
        backend.broken = False
        assert r(completions=[fence(OK)], problem_id=["pairsum"]) == [1.0]  # faults are not remembered


class NoCompilerBackend(BreakingBackend):
    """A box without a C++ toolchain."""

    def open(self, workers=None):
        box = super().open(workers)
        box._inner.info = box._inner.info.model_copy(update={"tools": {"python": "Python 3"}, "compilers": {}})
        return box


def test_misconfiguration_fails_at_construction() -> None:
    with pytest.raises(RewardConfigError, match="unknown backend 'nope'"):
        CodeReward(str(PROBLEMS), backend="nope")
    with pytest.raises(RewardConfigError, match="reward problems /no/such/folder"):
        CodeReward("/no/such/folder")
    with pytest.raises(RewardConfigError, match="no cpp toolchain"):
        CodeReward(str(PROBLEMS), backend=NoCompilerBackend(broken=False))
    with pytest.raises(RewardConfigError, match="unknown reward mode"):
        CodeReward(str(PROBLEMS), mode="exactish")
    with pytest.raises(RewardConfigError, match="unknown language"):
        CodeReward(str(PROBLEMS), language="cobol")


def test_rows_that_name_no_known_problem(reward: CodeReward) -> None:
    with pytest.raises(RewardConfigError, match="unknown problem 'nosuch'"):
        reward(completions=["x"], problem_id=["nosuch"])
    with pytest.raises(RewardConfigError, match="names no problem"):
        reward(completions=["x"], other=["y"])
    with pytest.raises(RewardConfigError, match="no subtask '09-x'"):
        reward.check_dataset([{"problem_id": "pairsum"}, {"id": "pairsum", "subtask": "09-x"}])
    assert reward.check_dataset([{"problem_id": "pairsum", "subtask": "samples"}]) == 1  # open-r1's short name


def test_verl_compute_score(monkeypatch) -> None:
    monkeypatch.setenv("IOI_EVAL_REWARD_PROBLEMS", str(PROBLEMS))
    ok = compute_score("ioi", fence(OK), "pairsum")
    assert ok["score"] == 1.0 and ok["verdict"] == "AC" and ok["fault"] == 0
    wrong = compute_score("ioi", fence(SAME_INDEX), "pairsum")
    assert (wrong["score"], wrong["verdict"], wrong["failed_test"]) == (0.0, "WA", "3-02")
    assert compute_score("ioi", fence(SAME_INDEX), "pairsum/01-small")["score"] == 1.0
    assert compute_score("ioi", fence(SAME_INDEX), "pairsum", mode="ioi")["score"] == 0.55
    assert compute_score("code", fence(SUM), json.dumps(INFO))["score"] == 1.0
    assert compute_score("code", fence(SUM), INFO)["passed"] == 2
    assert compute_score("ioi", "no code", "pairsum")["verdict"] == "NO_CODE"
    backend = BreakingBackend(broken=True)
    with pytest.raises(RewardFaultError, match="judge failed on pairsum"):
        compute_score("ioi", fence(OK), "pairsum", backend=backend)
    stand_in = compute_score("ioi", fence(OK), "pairsum", backend=backend, fault_score=-1.0)
    assert stand_in["score"] == -1.0 and stand_in["fault"] == 1
    with pytest.raises(RewardConfigError, match="unknown problem"):
        compute_score("ioi", fence(OK), "nosuch")


def test_judge_samples_directly(reward: CodeReward) -> None:
    [res] = reward.judge_samples([Sample(reward.target_of_label("pairsum/02-pair-exists"), fence(SAME_INDEX))])
    assert res.status == "judged" and res.reward == 1.0 and res.target == "pairsum/02-pair-exists"
