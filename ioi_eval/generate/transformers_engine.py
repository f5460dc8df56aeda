"""Completions from a Hugging Face ``transformers`` causal LM, on CPU or one GPU.

Slow next to vLLM, but it needs nothing beyond ``torch`` and ``transformers``: meant for small models,
debugging prompts, and machines without vLLM. Seeded sampling runs one request at a time under
``torch.manual_seed(seed)``, so a completion depends only on its own seed, never on what it was batched
with; greedy decoding and unseeded sampling are batched ``batch_size`` at a time (left padding).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel

from ioi_eval.errors import EngineError
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.generate.common import effective_seed, flatten_messages
from ioi_eval.generate.reasoning import prompt_opens_reasoning, split_reasoning

INSTALL_HINT = "the transformers engine needs torch and transformers: pip install 'ioi-eval[transformers]'"

#: ``max_new_tokens`` when the sampling config leaves ``max_tokens`` unset.
DEFAULT_MAX_NEW_TOKENS = 1024


def _import() -> tuple[Any, Any]:
    """Import torch and transformers or fail with the install command."""
    try:
        import torch
        import transformers
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return torch, transformers


def _transformers_version(transformers: Any) -> tuple[int, int]:
    """(major, minor) of the installed transformers."""
    parts = transformers.__version__.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):  # pragma: no cover - odd dev versions
        return (0, 0)


def trim_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """``text`` cut before the earliest stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def _stop_strings_criterion(tokenizer: Any, stop: list[str], prompt_width: int) -> Any:
    """A stopping criterion that ends each row once its decoded completion holds a stop string.

    (``generate(stop_strings=...)`` needs token strings it can align with the text, which word-level and
    some other tokenizers do not give; decoding the completion so far works with any tokenizer.)
    """
    import torch
    from transformers import StoppingCriteria

    class StopStrings(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            texts = tokenizer.batch_decode(input_ids[:, prompt_width:], skip_special_tokens=True)
            done = [any(s in t for s in stop) for t in texts]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return StopStrings()


class Options(BaseModel, extra="forbid"):
    """The options of the ``transformers`` engine (:class:`TransformersEngine` describes each); defaults as the
    engine's own."""

    device: str = "auto"
    dtype: str | None = None
    batch_size: int = 4
    trust_remote_code: bool = False
    revision: str | None = None


class TransformersEngine:
    """An :class:`~ioi_eval.generate.base.Engine` on ``AutoModelForCausalLM.generate``.

    Args:
        model: a Hugging Face model id or a local folder (tokenizer alongside).
        device: ``"cpu"``, ``"cuda"`` (or ``"cuda:N"``), or ``"auto"`` (CUDA when available, else CPU).
        dtype: ``"float32"``, ``"float16"``, ``"bfloat16"`` or ``"auto"``; default float32 on CPU, the
            checkpoint's own dtype on a GPU.
        batch_size: prompts per ``generate`` call for greedy or unseeded decoding.
        trust_remote_code: allow the model's own modelling code.
        revision: the model's revision (a branch, tag or commit) on the Hub.
    """

    name = "transformers"

    def __init__(self, model: str, device: str = "auto", dtype: str | None = None, batch_size: int = 4,
                 trust_remote_code: bool = False, revision: str | None = None) -> None:
        torch, transformers = _import()
        self._torch, self._transformers = torch, transformers
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if dtype is None:
            dtype = "float32" if device == "cpu" else "auto"
        torch_dtype: Any = dtype if dtype == "auto" else getattr(torch, dtype, None)
        if torch_dtype is None:
            raise ValueError(f"unknown dtype {dtype!r}")
        self.model_name = model
        self.device = device
        self.batch_size = max(1, batch_size)
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code,
                                                                    revision=revision)
        dtype_arg = "dtype" if _transformers_version(transformers) >= (4, 56) else "torch_dtype"
        self.model = transformers.AutoModelForCausalLM.from_pretrained(
            model, trust_remote_code=trust_remote_code, revision=revision, **{dtype_arg: torch_dtype})
        self.model.to(device)
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            if self.tokenizer.eos_token is not None:
                self.tokenizer.pad_token = self.tokenizer.eos_token
            else:
                self.tokenizer.add_special_tokens({"pad_token": "<pad>"})  # pragma: no cover - rare tokenizers

    @classmethod
    def from_options(cls, model: str, options: Options) -> TransformersEngine:
        """The engine for ``model`` with ``options``."""
        return cls(model, **options.model_dump())

    # ------------------------------------------------------------------------------------------ prompts

    @property
    def has_chat_template(self) -> bool:
        """True when the tokenizer carries a chat template."""
        return bool(getattr(self.tokenizer, "chat_template", None))

    def render(self, request: GenerationRequest) -> str:
        """The prompt text: the chat template with a generation prompt, or the plain message contents."""
        if self.has_chat_template:
            return self.tokenizer.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True)
        return flatten_messages(request.messages)

    def eos_ids(self) -> set[int]:
        """Token ids that end a completion (generation config and tokenizer)."""
        ids: set[int] = set()
        eos = getattr(self.model.generation_config, "eos_token_id", None)
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, (list, tuple)):
            ids.update(int(i) for i in eos)
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    # ------------------------------------------------------------------------------------------ generation

    def _batches(self, requests: Sequence[GenerationRequest],
                 sampling: SamplingConfig) -> Iterator[list[GenerationRequest]]:
        """Seeded sampling one by one (reproducible per request); everything else ``batch_size`` at a time."""
        sampled = sampling.temperature > 0
        group: list[GenerationRequest] = []
        for req in requests:
            if sampled and effective_seed(req, sampling) is not None:
                yield [req]
                continue
            group.append(req)
            if len(group) == self.batch_size:
                yield group
                group = []
        if group:
            yield group

    def _run_batch(self, batch: list[GenerationRequest], sampling: SamplingConfig) -> list[Completion]:
        """Generate one batch and turn its rows into completions."""
        torch = self._torch
        prompts = [self.render(r) for r in batch]
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True,
                             add_special_tokens=not self.has_chat_template).to(self.device)
        prompt_lens = [int(n) for n in enc["attention_mask"].sum(dim=1).tolist()]
        max_new = sampling.max_tokens if sampling.max_tokens is not None else DEFAULT_MAX_NEW_TOKENS
        kwargs: dict[str, Any] = {"max_new_tokens": max_new, "pad_token_id": self.tokenizer.pad_token_id}
        if sampling.temperature > 0:
            kwargs.update(do_sample=True, temperature=sampling.temperature, top_p=sampling.top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if sampling.stop:
            kwargs["stopping_criteria"] = self._transformers.StoppingCriteriaList(
                [_stop_strings_criterion(self.tokenizer, list(sampling.stop), enc["input_ids"].shape[1])])
        seed = effective_seed(batch[0], sampling) if len(batch) == 1 else None
        if seed is not None:
            torch.manual_seed(seed)
        with torch.no_grad():
            # only ids and mask: some tokenizers add token_type_ids, which causal LMs reject
            out = self.model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], **kwargs)
        width = enc["input_ids"].shape[1]
        eos = self.eos_ids()
        completions = []
        for i, req in enumerate(batch):
            generated = out[i, width:].tolist()
            n = len(generated)
            ended = False
            for j, tok in enumerate(generated):
                if tok in eos:
                    n, ended = j + 1, True
                    break
            # the end-of-sequence token counts as generated, but is no part of the text
            text = self.tokenizer.decode(generated[:n - 1] if ended else generated[:n], skip_special_tokens=True)
            text, stopped = trim_at_stop(text, sampling.stop)
            finish = "stop" if ended or stopped or n < max_new else "length"
            reasoning, answer = split_reasoning(text, opened=prompt_opens_reasoning(prompts[i]))
            completions.append(Completion(key=req.key, text=answer, reasoning=reasoning, finish_reason=finish,
                                          prompt_tokens=prompt_lens[i], completion_tokens=n,
                                          seed=effective_seed(req, sampling)))
        return completions

    def generate(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig) -> Iterator[Completion]:
        """Yield one completion per request, batch by batch in request order."""
        for batch in self._batches(requests, sampling):
            try:
                yield from self._run_batch(batch, sampling)
            except (ValueError, RuntimeError) as e:  # e.g. a prompt longer than the model's positions
                for req in batch:
                    yield Completion(key=req.key, seed=effective_seed(req, sampling),
                                     error=f"generation failed: {type(e).__name__}: {e}")

    def preflight(self) -> None:
        """The model was loaded when the engine was built; raises :class:`~ioi_eval.errors.EngineError` once it
        is closed."""
        if self.model is None:
            raise EngineError("the transformers engine is closed")

    def close(self) -> None:
        """Drop the model (and free GPU memory)."""
        self.model = None
        if self.device.startswith("cuda"):
            self._torch.cuda.empty_cache()
