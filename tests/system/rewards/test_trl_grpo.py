"""A real TRL ``GRPOTrainer`` step with ``CodeReward`` as its reward function, on CPU.

The policy is a tiny randomly initialised Qwen2 model whose vocabulary (built here, offline) holds a few plain words
and two whole answers as single tokens: a correct and a wrong ``pairsum`` solution in a C++ fence. Random sampling
then writes completions with the right code, the wrong code or no code at all, and the real judge scores them.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.conftest import PROBLEMS
from tests.fixtures.breaking_backend import BreakingBackend

trl = pytest.importorskip("trl")
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from ioi_eval.rewards import AsyncCodeReward, CodeReward  # noqa: E402

OK = (PROBLEMS / "pairsum" / "solutions" / "model_solution" / "pairsum.cpp").read_text()
WRONG = (PROBLEMS / "pairsum" / "solutions" / "incorrect" / "pairsum_garbage.cpp").read_text()
SOL_OK = f"\n```cpp\n{OK}\n```\n"
SOL_WRONG = f"\n```cpp\n{WRONG}\n```\n"
WORDS = ["solve", "pairsum"]  # few words: most completions hold an answer token


def tokenizer():
    """A word-level tokenizer with the two answers as tokens of their own, built without the Hub."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"<pad>": 0, "<eos>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>",
                                                unk_token="<unk>")
    fast.add_tokens([SOL_OK, SOL_WRONG])
    return fast


def tiny_model(vocab_size: int):
    torch.manual_seed(0)
    config = transformers.Qwen2Config(vocab_size=vocab_size, hidden_size=16, intermediate_size=32,
                                      num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                      max_position_embeddings=64, pad_token_id=0, eos_token_id=1, bos_token_id=1)
    return transformers.Qwen2ForCausalLM(config)


def expected(completion: str) -> float:
    """What the judge must say: the last C++ block decides (binary mode)."""
    last_ok, last_wrong = completion.rfind(SOL_OK.strip()), completion.rfind(SOL_WRONG.strip())
    if last_ok < 0 and last_wrong < 0:
        return 0.0  # no code: a real zero
    return 1.0 if last_ok > last_wrong else 0.0


def train(tmp_path: Path, reward, steps: int = 2):
    from datasets import Dataset

    tok = tokenizer()
    rows = [{"prompt": "solve pairsum", "problem_id": "pairsum"}, {"prompt": "pairsum", "problem_id": "pairsum"}]
    args = trl.GRPOConfig(output_dir=str(tmp_path / "out"), per_device_train_batch_size=8, num_generations=4,
                          max_completion_length=3, max_steps=steps, logging_steps=1, learning_rate=1e-3, beta=0.0,
                          report_to="none", use_cpu=True, bf16=False, save_strategy="no", seed=0,
                          dataloader_num_workers=0, temperature=1.0, log_completions=False)
    trainer = trl.GRPOTrainer(model=tiny_model(len(tok)), reward_funcs=[reward], args=args,
                              train_dataset=Dataset.from_list(rows * 4), processing_class=tok)
    seen: list[tuple[str, float]] = []
    original = trainer._calculate_rewards

    def spy(inputs, prompts, completions, completion_ids_list):  # records what the trainer got, changes nothing
        out = original(inputs, prompts, completions, completion_ids_list)
        seen.extend(zip(completions, out[:, 0].tolist(), strict=True))
        return out

    trainer._calculate_rewards = spy
    trainer.train()
    return trainer, seen


@pytest.mark.parametrize("cls", [CodeReward, AsyncCodeReward])
def test_grpo_steps_get_judged_rewards(tmp_path: Path, cls) -> None:
    reward = cls(str(PROBLEMS), mode="binary")
    trainer, seen = train(tmp_path, reward)
    assert len(seen) == 2 * 8
    for completion, value in seen:
        assert value == expected(completion), completion
    assert {v for _, v in seen} == {0.0, 1.0}  # the seed gives both right and wrong answers
    logs = [entry for entry in trainer.state.log_history if "rewards/code_reward/mean" in entry]
    assert len(logs) == 2
    step_means = [sum(v for _, v in seen[i * 8:(i + 1) * 8]) / 8 for i in range(2)]
    assert [entry["rewards/code_reward/mean"] for entry in logs] == pytest.approx(step_means)
    assert all(entry["code_reward/faults"] == 0.0 for entry in logs)
    assert all("code_reward/no_code" in entry for entry in logs)
    reward.close()


def test_grpo_sandbox_fault_is_none_not_zero(tmp_path: Path) -> None:
    backend = BreakingBackend(broken=True)
    reward = CodeReward(str(PROBLEMS), mode="binary", backend=backend, min_fault_samples=1000)
    trainer, seen = train(tmp_path, reward, steps=1)
    with_code = [v for c, v in seen if expected(c) or SOL_WRONG.strip() in c]
    without = [v for c, v in seen if not (expected(c) or SOL_WRONG.strip() in c)]
    assert with_code and all(math.isnan(v) for v in with_code)  # left out by TRL, not trained on as 0
    assert all(v == 0.0 for v in without)  # no code is the model's fault: a real zero
    (entry,) = [e for e in trainer.state.log_history if "code_reward/faults" in e]
    assert entry["code_reward/faults"] == pytest.approx(len(with_code) / len(seen))
    reward.close()
