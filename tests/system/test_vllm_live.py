"""VLLMEngine on a real GPU with a real (tiny) model.

Runs only where ``vllm`` imports, a CUDA GPU is present and ``IOI_EVAL_VLLM_MODEL`` names a small local
model folder or Hub id already in the cache (e.g. a Qwen2.5-0.5B-Instruct snapshot); skipped elsewhere.
"""

from __future__ import annotations

import os

import pytest

from ioi_eval.generate.base import GenerationRequest, SamplingConfig

pytest.importorskip("vllm")
torch = pytest.importorskip("torch")
if not torch.cuda.is_available():
    pytest.skip("needs a CUDA GPU", allow_module_level=True)
MODEL = os.environ.get("IOI_EVAL_VLLM_MODEL")
if not MODEL:
    pytest.skip("set IOI_EVAL_VLLM_MODEL to a small model to run the live vLLM test", allow_module_level=True)


def test_live_generation() -> None:
    from ioi_eval.generate.vllm_engine import VLLMEngine

    engine = VLLMEngine(MODEL, max_model_len=2048, gpu_memory_utilization=0.5, enforce_eager=True, use_tqdm=False)
    try:
        assert engine.max_model_len == 2048
        reqs = [GenerationRequest(key=f"sum/00/{i}", problem="sum", subtask="00", sample=i,
                                  messages=[{"role": "user", "content": "Write a C++ program that prints a+b."}])
                for i in range(3)]
        reqs.append(GenerationRequest(key="sum/00/long", problem="sum", subtask="00", sample=9,
                                      messages=[{"role": "user", "content": "word " * 5000}]))
        sampling = SamplingConfig(temperature=0.7, top_p=0.95, max_tokens=64, seed=1)
        out = {c.key: c for c in engine.generate(reqs, sampling)}
        assert len(out) == 4
        for i in range(3):
            c = out[f"sum/00/{i}"]
            assert not c.failed and c.prompt_tokens > 0 and 0 < c.completion_tokens <= 64
            assert c.finish_reason in ("stop", "length") and c.seed == 1 + i
        assert out["sum/00/long"].failed and "max_model_len" in out["sum/00/long"].error
        # same seed, same sample: same text
        again = {c.key: c for c in engine.generate(reqs[:1], sampling)}
        assert again["sum/00/0"].text == out["sum/00/0"].text
        # no max_tokens: the budget is what the context leaves, so a short answer ends by itself
        [free] = engine.generate(reqs[:1], SamplingConfig(temperature=0.0, max_tokens=None))
        assert not free.failed and free.prompt_tokens + free.completion_tokens <= 2048
    finally:
        engine.close()
