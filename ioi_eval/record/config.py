"""The configuration of a run, and what makes two runs "the same" for resuming."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from ..generate.base import SamplingConfig
from ..judge.languages import LANGUAGES
from .folder import RunFolder

SECRET_OPTIONS = {"api_key"}
#: Option names whose values are credentials wherever they appear (``headers`` values, vLLM ``hf_token``...).
SECRET_NAME = re.compile(r"token|secret|passw|api[_-]?key|authorization|cookie", re.IGNORECASE)
MASK = "***"


def redact_options(options: Any) -> Any:
    """Engine options as a run may store them: ``api_key`` dropped (as runs have always stored them), any value
    named like a credential, and every HTTP header value, masked; nested mappings alike."""
    if isinstance(options, dict):
        out: dict[str, Any] = {}
        for key, value in options.items():
            if key in SECRET_OPTIONS:
                continue
            if key == "headers" and isinstance(value, dict):
                out[key] = {name: MASK for name in value}
            elif isinstance(key, str) and SECRET_NAME.search(key) and value is not None:
                out[key] = MASK
            else:
                out[key] = redact_options(value)
        return out
    return options


class RunConfig(BaseModel):
    """Everything that decides a run's results. Changing any of it makes a different run."""

    model: str
    model_name: str | None = Field(None, description="the label in run folders and leaderboards (None: model)")
    engine: str
    problems: str = Field(description="the problem set (a folder of packages, or a package)")
    problem_codes: list[str]
    samples: int = Field(ge=1)
    per: Literal["subtask", "problem"] = "subtask"
    language: str = Field("cpp", description="a name of the language registry (ioi_eval.judge.languages)")
    sampling: SamplingConfig = Field(default_factory=SamplingConfig)
    engine_options: dict[str, Any] = Field(default_factory=dict)
    prompt_template_sha256: str | None = None
    max_submissions: int = 50
    judge_profile: str = Field("cms", description="judge behaviour (ioi_eval.judge.profile)")
    generate_inputs: int = Field(0, ge=0, description="inputs per problem from a model-written generator (select)")
    system_prompt: str | None = Field(None, description="the system message of every prompt (None: the template's)")

    @property
    def label(self) -> str:
        """The model's name in run folders, scores and leaderboards."""
        return self.model_name or self.model

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError(f"unknown language {value!r}; known: {', '.join(LANGUAGES)}")
        return value

    def stored(self) -> dict[str, Any]:
        """The config as stored in the run (secrets removed: they do not change results)."""
        data = self.model_dump(mode="json")
        if data["judge_profile"] == "cms":  # the default is left out, so runs stored before it resume
            del data["judge_profile"]
        if data["generate_inputs"] == 0:  # likewise: runs stored before --generate-inputs existed resume
            del data["generate_inputs"]
        for key in ("model_name", "system_prompt"):  # unset: left out, as runs stored before them
            if data[key] is None:
                del data[key]
        data["engine_options"] = redact_options(data["engine_options"])
        return data

    def fingerprint(self) -> str:
        """A short hash of the stored config."""
        return hashlib.sha256(json.dumps(self.stored(), sort_keys=True).encode()).hexdigest()[:12]


def diff_configs(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """Human-readable differences between two stored configs."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += diff_configs(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} -> {b!r}")
    return out


def slug(text: str) -> str:
    """A file-system-safe short name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:80] or "run"


def model_slug(model: str) -> str:
    """A model's part of a run folder name: a local folder's own name, else the name with its organisation
    (``Qwen/Qwen3-8B`` -> ``Qwen--Qwen3-8B``, as Hugging Face's cache names it)."""
    path = Path(model)
    if path.exists() or model.startswith(("/", "./", "../", "~")):
        return slug(path.name or model)
    return slug(model.strip("/").replace("/", "--"))


def default_run_dir(runs_root: Path, model: str, problems: str) -> Path:
    """``runs/<model>-<problem set>``: re-running the same command finds the same folder. A run started before
    run folders kept the organisation (``runs/Qwen3-8B-<set>``) is found and resumed there."""
    chosen = runs_root / f"{model_slug(model)}-{slug(Path(problems).name)}"
    legacy = runs_root / f"{slug(Path(model).name or model)}-{slug(Path(problems).name)}"
    if legacy != chosen and not chosen.exists() and RunFolder(legacy).store_path.is_file():
        return legacy
    return chosen


def template_digest(path: Path | None) -> str | None:
    """The content hash of a prompt template override (so editing it makes a new run)."""
    return hashlib.sha256(path.read_bytes()).hexdigest() if path else None
