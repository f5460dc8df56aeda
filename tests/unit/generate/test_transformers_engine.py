"""TransformersEngine on CPU with a tiny randomly initialised Llama and a word-level tokenizer built here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ioi_eval.generate import get_engine
from ioi_eval.generate.base import GenerationRequest, SamplingConfig

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

WORDS = ["hello", "world", "int", "main", "return", "cpp", "code", "solve", "problem", "answer",
         "be", "terse", "system", "user", "assistant", "a", "b", "c", "d", "e"]
SPECIALS = ["<unk>", "<pad>", "<s>", "</s>"]
CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}"
                 "{% if add_generation_prompt %}assistant{% endif %}")


def build(root: Path, *, chat_template: bool, constant: bool) -> Path:
    """Save a tiny model and tokenizer to ``root``. ``constant``: the final norm is zeroed, so every logit is 0:
    greedy decoding always picks token 0 ("hello") and sampling is uniform over the vocabulary."""
    vocab = {w: i for i, w in enumerate(["hello", *SPECIALS, *WORDS[1:]])}
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = tokenizers.pre_tokenizers.Whitespace()
    fast = transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                                bos_token="<s>", eos_token="</s>")
    if chat_template:
        fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(root)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1,
                                      num_attention_heads=2, num_key_value_heads=2, intermediate_size=64,
                                      max_position_embeddings=256, bos_token_id=vocab["<s>"],
                                      eos_token_id=vocab["</s>"], pad_token_id=vocab["<pad>"])
    model = transformers.LlamaForCausalLM(config)
    if constant:
        with torch.no_grad():
            model.model.norm.weight.zero_()
    model.save_pretrained(root)
    return root


@pytest.fixture(scope="module")
def constant_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("const"), chat_template=True, constant=True)


@pytest.fixture(scope="module")
def plain_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("plain"), chat_template=False, constant=False)


def request(i: int, content: str = "solve problem", seed: int | None = None) -> GenerationRequest:
    return GenerationRequest(key=f"p/s/{i}", problem="p", subtask="s", sample=i, seed=seed,
                             messages=[{"role": "system", "content": "be terse"}, {"role": "user", "content": content}])


def engine(path: Path, **kw: Any) -> Any:
    from ioi_eval.generate.transformers_engine import TransformersEngine

    return TransformersEngine(str(path), device="cpu", **kw)


def test_greedy_length_and_chat_template(constant_model: Path) -> None:
    e = engine(constant_model, batch_size=2)
    reqs = [request(0), request(1, content="solve problem a b c d e"), request(2, content="hello")]
    out = {c.key: c for c in e.generate(reqs, SamplingConfig(temperature=0.0, max_tokens=5))}
    assert len(out) == 3
    for c in out.values():
        assert (c.text, c.finish_reason, c.completion_tokens) == ("hello hello hello hello hello", "length", 5)
        assert c.reasoning is None
    # prompt = the chat template rendering, one token per word: "system be terse user solve problem assistant"
    assert out["p/s/0"].prompt_tokens == 7
    assert out["p/s/1"].prompt_tokens == 12  # left-padded in the same batch, still counted without padding
    assert out["p/s/2"].prompt_tokens == 6


def test_default_max_new_tokens(constant_model: Path) -> None:
    from ioi_eval.generate import transformers_engine

    e = engine(constant_model)
    transformers_engine.DEFAULT_MAX_NEW_TOKENS, old = 7, transformers_engine.DEFAULT_MAX_NEW_TOKENS
    try:
        [c] = e.generate([request(0)], SamplingConfig(temperature=0.0, max_tokens=None))
    finally:
        transformers_engine.DEFAULT_MAX_NEW_TOKENS = old
    assert (c.completion_tokens, c.finish_reason) == (7, "length")


def test_stop_strings_trimmed(constant_model: Path) -> None:
    e = engine(constant_model)
    [c] = e.generate([request(0)], SamplingConfig(temperature=0.0, max_tokens=8, stop=[" hello hello"]))
    assert c.text == "hello" and c.finish_reason == "stop"
    assert c.completion_tokens < 8  # generation itself stopped early


def test_eos_ends_with_stop(constant_model: Path) -> None:
    e = engine(constant_model)
    e.model.generation_config.eos_token_id = 0  # "hello", the constant model's only greedy choice, ends it
    [c] = e.generate([request(0)], SamplingConfig(temperature=0.0, max_tokens=8))
    assert (c.text, c.finish_reason, c.completion_tokens) == ("", "stop", 1)


def test_seeded_sampling_is_reproducible(constant_model: Path) -> None:
    e = engine(constant_model, batch_size=4)
    sampling = SamplingConfig(temperature=1.0, top_p=1.0, max_tokens=12, seed=100)
    first = {c.key: c for c in e.generate([request(i) for i in range(3)], sampling)}
    # the same request alone, or after others, gives the same text: it depends on its seed only
    again = {c.key: c for c in e.generate([request(2), request(0)], sampling)}
    assert again["p/s/0"].text == first["p/s/0"].text and again["p/s/2"].text == first["p/s/2"].text
    assert first["p/s/0"].seed == 100 and first["p/s/2"].seed == 102
    texts = {first[f"p/s/{i}"].text for i in range(3)}
    assert len(texts) == 3  # uniform sampling over 24 tokens: different seeds, different texts


def test_plain_concatenation_without_chat_template(plain_model: Path) -> None:
    e = engine(plain_model)
    assert not e.has_chat_template
    assert e.render(request(0)) == "be terse\n\nsolve problem"
    [c] = e.generate([request(0)], SamplingConfig(temperature=0.0, max_tokens=4))
    assert not c.failed and c.completion_tokens <= 4
    assert c.prompt_tokens == 4  # "be terse solve problem" (a word-level tokenizer adds no BOS of itself)


def test_registry_and_close(constant_model: Path) -> None:
    e = get_engine("transformers", str(constant_model), device="cpu")
    assert e.name == "transformers"
    [c] = e.generate([request(0)], SamplingConfig(temperature=0.0, max_tokens=2))
    assert c.text == "hello hello"
    e.close()
    assert e.model is None


def test_failed_batch_yields_error_completions(constant_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    e = engine(constant_model, batch_size=2)
    real = e.model.generate
    seen = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        seen.append(1)
        if len(seen) == 1:
            raise RuntimeError("CUDA out of memory")
        return real(*args, **kwargs)

    monkeypatch.setattr(e.model, "generate", flaky)
    out = {c.key: c for c in e.generate([request(i) for i in range(3)], SamplingConfig(temperature=0.0, max_tokens=2))}
    assert out["p/s/0"].failed and "CUDA out of memory" in out["p/s/0"].error and out["p/s/1"].failed
    assert out["p/s/2"].text == "hello hello"  # the next batch still ran


def test_prompt_opened_reasoning(constant_model: Path) -> None:
    e = engine(constant_model)
    e.tokenizer.chat_template = CHAT_TEMPLATE + " <think>"  # as DeepSeek-R1's template does
    [c] = e.generate([request(0)], SamplingConfig(temperature=0.0, max_tokens=3))
    assert (c.reasoning, c.text, c.finish_reason) == ("hello hello hello", "", "length")
