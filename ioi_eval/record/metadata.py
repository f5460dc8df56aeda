"""What a run's results carry so they can be reproduced and published: :class:`RunMetadata`.

One model, assembled here and nowhere else, travels with every output of a run: ``summary.json`` and
``ioi-eval run --json`` (``RunScore.metadata``), the run store (meta key :data:`META_KEY`, where the leaderboard
reads it) and ``leaderboard.json`` (each entry's ``metadata``). It names the ioi-eval version, when the run
started and last finished, the engine and its options (credentials redacted), the model (its name, local path
and revision), the sampling settings, the prompt template and the prompts' digests, the problem set (its spec
and a digest of the packages' content) and the judge (profile, backend, isolation, toolchains).

Runs stored before it existed have no stored metadata: :func:`from_config` gives what their config says, and
leaves the rest unknown (None).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from .. import __version__
from ..generate.base import SamplingConfig
from .config import RunConfig, redact_options

if TYPE_CHECKING:
    from ioi_box.protocol import BoxInfo

    from ..problem.model import Problem
    from .store import RunStore

#: The run store's meta keys: the assembled metadata, the time of the run's first start, the problems' cards.
META_KEY = "metadata"
STARTED_KEY = "started_at"
CARDS_KEY = "problem_cards"
_COMMIT = re.compile(r"[0-9a-f]{40}")


class ModelIdentity(BaseModel):
    """Which model produced the completions."""

    name: str = Field(description="the label in scores and leaderboards")
    id: str = Field(description="the --model as given (a Hub id, a local folder, a served name, a replay file)")
    path: str | None = Field(None, description="the local folder or file the weights or completions came from")
    revision: str | None = Field(None, description="Hub commit or branch; a replay file's sha256 as sha256:<hex>")


class PromptIdentity(BaseModel):
    """The prompts the model saw."""

    templates: list[str] = Field(description="the template files used (shipped names, or the override's path)")
    template_sha256: str | None = Field(description="digest of those templates and the shipped partials they use")
    system_prompt: str | None = None
    prompts_sha256: str | None = Field(None, description="digest of every request's chat messages, in key order")


class ProblemSetIdentity(BaseModel):
    """The problems the run was scored on."""

    spec: str = Field(description="the --problems spec (a resolved path, or e.g. hf:open-r1/ioi)")
    name: str = Field(description="a short name: the folder's name, or the spec")
    codes: list[str]
    content_sha256: str | None = Field(None, description="digest of every package's files (code: digest, sorted)")
    packages: dict[str, str] = Field(default_factory=dict, description="problem code -> its package's digest")

    @property
    def version(self) -> str | None:
        """A short form of the content digest (what a board shows as the set's version)."""
        return self.content_sha256[:12] if self.content_sha256 else None


class JudgeIdentity(BaseModel):
    """The judge the submissions ran on."""

    profile: str
    backend: str | None = None
    isolation: str | None = None
    toolchains: dict[str, str] = Field(default_factory=dict, description="language -> the box's toolchain line")


class RunMetadata(BaseModel):
    """Everything needed to tell how a run's numbers were made (see the module docstring)."""

    ioi_eval_version: str | None = Field(description="the version that last executed the run (None: unknown)")
    started_at: datetime | None = Field(None, description="the run's first start (UTC)")
    finished_at: datetime | None = Field(None, description="the end of its last execution (UTC)")
    config_fingerprint: str
    engine: str
    engine_options: dict[str, Any] = Field(default_factory=dict, description="credentials masked or dropped")
    model: ModelIdentity
    sampling: SamplingConfig
    samples: int = Field(description="samples per prompt")
    per: str = Field(description="one prompt per subtask or per problem")
    language: str
    max_submissions: int
    prompt: PromptIdentity
    problem_set: ProblemSetIdentity
    judge: JudgeIdentity


class ProblemCard(BaseModel):
    """What a published board shows of a problem: its name, task type, limits and statement (kept in the run store,
    so a board is built from the run alone, even where the packages are not)."""

    code: str
    name: str
    task_type: str
    time_limit: float = Field(description="seconds")
    memory_limit: int = Field(description="bytes")
    max_score: float
    statement: str | None = Field(None, description="the package's statement.md (Markdown), if it has one")

    @classmethod
    def of(cls, problem: Problem) -> ProblemCard:
        """The card of a loaded problem."""
        return cls(code=problem.code, name=problem.name, task_type=problem.task_type, time_limit=problem.time_limit,
                   memory_limit=problem.memory_limit, max_score=problem.max_score, statement=problem.statement)


def now() -> datetime:
    """The current time in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def mark_started(store: RunStore) -> datetime:
    """The run's first start: stored the first time a run is executed, read back on every resume."""
    stored = store.get_meta(STARTED_KEY)
    if stored:
        return datetime.fromisoformat(stored)
    started = now()
    store.set_meta(STARTED_KEY, started.isoformat())
    return started


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _hub_cache() -> Path:
    """The Hugging Face Hub cache: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``, else huggingface_hub's default."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    try:
        from huggingface_hub import constants

        return Path(constants.HF_HUB_CACHE)
    except ImportError:
        return Path.home() / ".cache" / "huggingface" / "hub"


def model_identity(config: RunConfig, loads_hub_weights: bool) -> ModelIdentity:
    """The model's local path and revision, found offline.

    A local file (a replay source) is named by its content; a local folder inside a Hub cache snapshot by the
    snapshot's commit; a Hub id that an engine loads itself (``loads_hub_weights``: its options take a
    ``revision``) by the commit the local Hub cache resolves its revision (default ``main``) to.
    """
    revision = config.engine_options.get("revision")
    local = Path(config.model).expanduser()
    path: Path | None = local.resolve() if local.exists() else None
    if path is not None and path.is_file():
        revision = revision or f"sha256:{_file_sha256(path)}"
    elif path is not None:
        parent = path.parent
        if revision is None and parent.name == "snapshots" and _COMMIT.fullmatch(path.name):
            revision = path.name
    elif loads_hub_weights and "/" in config.model and not config.model.startswith(("/", ".", "~")):
        repo = _hub_cache() / ("models--" + config.model.strip("/").replace("/", "--"))
        wanted = str(revision or "main")
        commit = wanted if _COMMIT.fullmatch(wanted) else None
        if commit is None:
            ref = repo / "refs" / wanted
            commit = ref.read_text().strip() if ref.is_file() else None
        if commit and (repo / "snapshots" / commit).is_dir():
            path = repo / "snapshots" / commit
        revision = commit or revision
    return ModelIdentity(name=config.label, id=config.model, path=str(path) if path else None,
                         revision=str(revision) if revision is not None else None)


def prompt_identity(config: RunConfig, problems: Iterable[Problem], template: Path | None,
                    prompts_sha256: str | None) -> PromptIdentity:
    """The templates a run's prompts came from and their digest (the shipped partials included)."""
    from ..prompts.builder import TEMPLATES_DIR, default_template

    if config.engine == "reference":  # the packages' own solutions: no prompt is sent
        return PromptIdentity(templates=[], template_sha256=None, system_prompt=None, prompts_sha256=prompts_sha256)
    files = [template] if template is not None else sorted({default_template(config.language, p.scoring)
                                                            for p in problems})
    h = hashlib.sha256()
    for path in [*files, *sorted(TEMPLATES_DIR.glob("_*.j2"))]:
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\1")
    names = [str(template)] if template is not None else [p.name for p in files]
    return PromptIdentity(templates=names, template_sha256=h.hexdigest(), system_prompt=config.system_prompt,
                          prompts_sha256=prompts_sha256)


def problem_set_identity(spec: str, problems: Iterable[Problem]) -> ProblemSetIdentity:
    """The problem set: its spec and a digest of its packages' files (remembered by the packages' stat, so an
    unchanged set is not read again)."""
    from ..sources.materialise import package_digest

    packages = {p.code: package_digest(p.root, "run-metadata") for p in sorted(problems, key=lambda p: p.code)}
    joined = "".join(f"{code}:{digest}\n" for code, digest in packages.items())
    return ProblemSetIdentity(spec=spec, name=set_name(spec), codes=list(packages),
                              content_sha256=hashlib.sha256(joined.encode()).hexdigest(), packages=packages)


def set_name(spec: str) -> str:
    """A problem set's short name: a local path's last part, else the spec itself."""
    scheme, sep, _ = spec.partition(":")
    if sep and "/" not in scheme and not Path(spec).exists():
        return spec
    return Path(spec).name or spec


def judge_identity(profile: str, backend: str | None, info: BoxInfo | None) -> JudgeIdentity:
    """The judge: its profile and backend, and (when a box was opened) its isolation and toolchains."""
    return JudgeIdentity(profile=profile, backend=backend, isolation=info.isolation if info else None,
                         toolchains=dict(info.tools) if info else {})


def assemble(config: RunConfig, problems: list[Problem], *, template: Path | None, loads_hub_weights: bool,
             backend: str | None, box_info: BoxInfo | None, started_at: datetime | None,
             finished_at: datetime | None, prompts_sha256: str | None) -> RunMetadata:
    """The metadata of a run just executed (the one place it is put together)."""
    return RunMetadata(
        ioi_eval_version=__version__, started_at=started_at, finished_at=finished_at,
        config_fingerprint=config.fingerprint(), engine=config.engine,
        engine_options=redact_options(config.engine_options), model=model_identity(config, loads_hub_weights),
        sampling=config.sampling, samples=config.samples, per=config.per, language=config.language,
        max_submissions=config.max_submissions,
        prompt=prompt_identity(config, problems, template, prompts_sha256),
        problem_set=problem_set_identity(config.problems, problems),
        judge=judge_identity(config.judge_profile, backend, box_info))


def from_config(stored: Mapping[str, Any], started_at: str | None = None) -> RunMetadata:
    """What a stored config tells of a run that has no stored metadata (one from before it existed)."""
    config = RunConfig.model_validate(stored)
    digest = stored.get("prompt_template_sha256")
    return RunMetadata(
        ioi_eval_version=None, started_at=datetime.fromisoformat(started_at) if started_at else None,
        config_fingerprint=config.fingerprint(), engine=config.engine,
        engine_options=redact_options(config.engine_options),
        model=ModelIdentity(name=config.label, id=config.model, revision=config.engine_options.get("revision")),
        sampling=config.sampling, samples=config.samples, per=config.per, language=config.language,
        max_submissions=config.max_submissions,
        prompt=PromptIdentity(templates=[], template_sha256=digest, system_prompt=config.system_prompt),
        problem_set=ProblemSetIdentity(spec=config.problems, name=set_name(config.problems),
                                       codes=list(config.problem_codes)),
        judge=JudgeIdentity(profile=config.judge_profile))


def save_cards(store: RunStore, problems: Iterable[Problem]) -> None:
    """Store the problems' cards (replacing those of an earlier execution)."""
    store.set_meta(CARDS_KEY, [ProblemCard.of(p).model_dump(mode="json") for p in problems])


def read_cards(store: RunStore) -> list[ProblemCard]:
    """The problems' cards the run stored (none for a run from before they were kept)."""
    stored = store.get_meta(CARDS_KEY)
    return [ProblemCard.model_validate(c) for c in stored] if isinstance(stored, list) else []


def read_metadata(store: RunStore) -> RunMetadata | None:
    """The run's stored metadata, or what its config tells (None: the store holds no config)."""
    stored = store.get_meta(META_KEY)
    if isinstance(stored, dict):
        return RunMetadata.model_validate(stored)
    config = store.get_meta("config")
    if not isinstance(config, dict):
        return None
    return from_config(config, store.get_meta(STARTED_KEY))
