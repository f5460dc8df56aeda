"""The generation protocol: requests in, completions out, whatever produces them.

Engines (vLLM offline, an OpenAI-compatible server, transformers, replayed completions) are small
classes behind :class:`Engine`; the run pipeline never knows which one it holds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from pydantic import BaseModel, Field


class SamplingConfig(BaseModel):
    """Sampling parameters shared by every engine (each maps them to its own API)."""

    temperature: float = 0.7
    top_p: float = 0.95
    max_tokens: int | None = Field(
        None, description="completion budget; None = as much as the context allows (reasoning models need 32k+)")
    seed: int | None = Field(None, description="base seed; request i of a key uses seed + sample index")
    stop: list[str] = Field(default_factory=list)


class GenerationRequest(BaseModel):
    """One completion to produce: a sample of a prompt."""

    key: str = Field(description="unique within a run, e.g. 'rainfall/03-full/7'")
    problem: str
    subtask: str | None = None
    sample: int = 0
    language: str = "cpp"
    messages: list[dict[str, str]] = Field(description="chat messages (role, content)")
    seed: int | None = None


class Completion(BaseModel):
    """What an engine produced for one request. ``error`` set means it failed for good."""

    key: str
    text: str = Field("", description="the answer, reasoning removed")
    reasoning: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    seed: int | None = None
    error: str | None = None

    @property
    def failed(self) -> bool:
        """True when the request failed for good (never to be taken as an empty answer)."""
        return self.error is not None


class Engine(Protocol):
    """A source of completions.

    An engine class is built with ``from_options(model, options)`` from its module's ``Options`` model. One that
    answers from the problem packages rather than from prompts (the reference solutions) also has a static
    ``plan_requests(problems, samples) -> (requests, {key: solution path})``: a run then takes every problem it is
    given, asks it for its requests instead of prompting, and judges each key from the file given for it.

    The run builds the engine and calls its ``preflight()`` before it queues any work, so a dead server, an unknown
    model or an engine that does not start stops the run at once, with nothing recorded as failed.

    An engine may also have ``notes``: lines the run shows once the engine has started (the replay engine's rows
    in no known shape, or without code to judge).
    """

    name: str

    def generate(self, requests: Sequence[GenerationRequest], sampling: SamplingConfig) -> Iterator[Completion]:
        """Yield one completion per request, in any order, as each finishes.

        A request that cannot be served after the engine's retries yields a Completion with
        ``error`` set; the iterator itself raises only for errors that stop the whole engine
        (a missing model, a missing optional dependency).
        """
        ...

    def preflight(self) -> None:
        """Check, before any work is queued, that the engine can serve (optional: an engine without it is taken
        as ready).

        An OpenAI-compatible server must answer and list the model; an offline engine has started when it was
        built. Raises :class:`~ioi_eval.errors.EngineError` naming the cause.
        """
        ...

    def close(self) -> None:
        """Release the engine's resources (GPU memory, HTTP clients)."""
        ...
