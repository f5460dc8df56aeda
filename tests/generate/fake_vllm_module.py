"""A stand-in for the slice of vLLM's offline API that VLLMEngine uses, recording every call.

The tests register it as ``vllm`` (and ``vllm.reasoning``) in ``sys.modules``; data-parallel worker
processes import it through a tiny ``vllm`` package written to a temporary folder on ``sys.path``.
Names and signatures follow vLLM: ``LLM(model, **engine_args)``, ``LLM.get_tokenizer()``,
``LLM.generate(prompts, sampling_params, use_tqdm=...)`` returning RequestOutputs (``.outputs[0].text``,
``.token_ids``, ``.finish_reason``), ``SamplingParams(**kwargs)``, ``ReasoningParserManager``.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, ClassVar

CALLS: list[tuple[Any, ...]] = []
#: The context length the fake engine reports when none is given.
DEFAULT_MAX_MODEL_LEN = 64
_TEXTS: dict[tuple[int, ...], str] = {}


def default_responder(prompt: str, params: SamplingParams) -> tuple[str, str, int]:
    """(text, finish_reason, completion tokens) for a prompt: a short trace and an answer."""
    last = prompt.replace("<|assistant|>", " ").split()[-1]
    gpus = os.environ.get("CUDA_VISIBLE_DEVICES")
    return f"<think>gpus={gpus} pid={os.getpid()}</think>answer to {last}", "stop", 7


RESPONDER: Callable[[str, SamplingParams], tuple[str, str, int]] = default_responder


def reset() -> None:
    """Forget recorded calls and restore the default responder."""
    global RESPONDER
    CALLS.clear()
    _TEXTS.clear()
    RESPONDER = default_responder


class SamplingParams:
    """Records its keyword arguments (vLLM's SamplingParams is keyword-only too)."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        for k, v in kwargs.items():
            setattr(self, k, v)
        CALLS.append(("SamplingParams", kwargs))

    def __repr__(self) -> str:
        return f"SamplingParams({self.kwargs})"


class Tokenizer:
    """One token per whitespace-separated word (plus a BOS when special tokens are added)."""

    chat_template = "{% for m in messages %}...{% endfor %}"

    def apply_chat_template(self, messages: list[dict[str, str]], tokenize: bool = True,
                            add_generation_prompt: bool = False, **kwargs: Any) -> str:
        CALLS.append(("apply_chat_template", messages, {"tokenize": tokenize,
                                                        "add_generation_prompt": add_generation_prompt, **kwargs}))
        text = " ".join(f"<|{m['role']}|> {m['content']}" for m in messages)
        if add_generation_prompt:
            text += " <|assistant|>"
        if kwargs.get("thinking"):
            text += " <think>\n"
        return text

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        CALLS.append(("encode", text, add_special_tokens))
        ids = ([1] if add_special_tokens else []) + [zlib.crc32(w.encode()) % 50000 + 2 for w in text.split()]
        _TEXTS[tuple(ids)] = text
        return ids


class LLM:
    """Records its construction and generate calls; answers through RESPONDER."""

    def __init__(self, model: str, **kwargs: Any) -> None:
        CALLS.append(("LLM", model, kwargs))
        self.tokenizer = Tokenizer()
        max_len = kwargs.get("max_model_len") or DEFAULT_MAX_MODEL_LEN
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=max_len))

    def get_tokenizer(self) -> Tokenizer:
        return self.tokenizer

    def generate(self, prompts: list[dict[str, Any]], sampling_params: list[SamplingParams] | None = None,
                 use_tqdm: bool = True) -> list[SimpleNamespace]:
        CALLS.append(("generate", prompts, sampling_params, use_tqdm))
        assert isinstance(sampling_params, list) and len(sampling_params) == len(prompts)
        outputs = []
        for i, (prompt, params) in enumerate(zip(prompts, sampling_params, strict=True)):
            ids = prompt["prompt_token_ids"]
            assert len(ids) + params.max_tokens <= self.llm_engine.model_config.max_model_len
            text, finish, n = RESPONDER(_TEXTS[tuple(ids)], params)
            outputs.append(SimpleNamespace(
                request_id=str(i), prompt_token_ids=ids,
                outputs=[SimpleNamespace(index=0, text=text, token_ids=list(range(n)), finish_reason=finish)]))
        return outputs


class _BarParser:
    """A reasoning parser that splits at '|||' (distinct from the <think> fallback, to see which ran)."""

    def __init__(self, tokenizer: Any) -> None:
        CALLS.append(("parser", type(tokenizer).__name__))

    def extract_reasoning(self, model_output: str, request: Any) -> tuple[str | None, str | None]:
        reasoning, _, content = model_output.partition("|||")
        return reasoning, content


class ReasoningParserManager:
    """vllm.reasoning.ReasoningParserManager: parser classes by name."""

    parsers: ClassVar[dict[str, type]] = {"bar": _BarParser}

    @classmethod
    def get_reasoning_parser(cls, name: str) -> type:
        if name not in cls.parsers:
            raise KeyError(f"Reasoning parser '{name}' not found.")
        return cls.parsers[name]
