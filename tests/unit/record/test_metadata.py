"""record/metadata.py: the model's path and revision found offline, credentials redacted, runs from before it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ioi_eval.generate.base import SamplingConfig
from ioi_eval.record.config import RunConfig
from ioi_eval.record.folder import RunFolder
from ioi_eval.record.metadata import (
    RunMetadata,
    assemble,
    from_config,
    mark_started,
    model_identity,
    read_metadata,
    set_name,
)
from ioi_eval.sources import load_problem_set
from tests.conftest import PROBLEMS

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _config(model: str, engine: str = "vllm", **options: object) -> RunConfig:
    return RunConfig(model=model, engine=engine, problems=str(PROBLEMS), problem_codes=["rainfall"], samples=2,
                     engine_options=dict(options))


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "hub"
    repo = cache / "models--Org--Model"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    (repo / "snapshots" / COMMIT).mkdir(parents=True)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    return repo


def test_a_hub_id_resolves_to_its_cached_commit(hub: Path) -> None:
    found = model_identity(_config("Org/Model"), loads_hub_weights=True)
    assert found.revision == COMMIT and found.path == str(hub / "snapshots" / COMMIT)
    (hub / "refs" / "v2").write_text("f" * 40)
    assert model_identity(_config("Org/Model", revision="v2"), True).revision == "f" * 40
    assert model_identity(_config("Org/Model", revision="v9"), True).revision == "v9"  # not cached: as given
    # a served model (the openai engine) is the server's business: the local cache says nothing of it
    served = model_identity(_config("Org/Model", engine="openai"), loads_hub_weights=False)
    assert served.revision is None and served.path is None
    assert model_identity(_config("Other/Model"), True).revision is None


def test_local_folders_and_files(hub: Path, tmp_path: Path) -> None:
    snapshot = model_identity(_config(str(hub / "snapshots" / COMMIT)), True)
    assert snapshot.revision == COMMIT and snapshot.path == str((hub / "snapshots" / COMMIT).resolve())
    plain = tmp_path / "my-model"
    plain.mkdir()
    assert model_identity(_config(str(plain)), True).revision is None
    src = tmp_path / "gens.jsonl"
    src.write_text('{"key": "a", "text": "b"}\n')
    replay = model_identity(_config(str(src), engine="replay"), False)
    assert replay.revision == "sha256:" + hashlib.sha256(src.read_bytes()).hexdigest()
    assert replay.path == str(src.resolve())


def test_assembled_metadata_masks_credentials() -> None:
    problems = load_problem_set(str(PROBLEMS), ["rainfall"])
    config = _config("Org/Model", engine="openai", api_key="sk-top", headers={"Authorization": "Bearer x"},
                     extra_body={"hf_token": "hf_abc", "top_k": 5})
    meta = assemble(config, problems, template=None, loads_hub_weights=False, backend="local", box_info=None,
                    started_at=None, finished_at=None, prompts_sha256=None)
    text = meta.model_dump_json()
    assert "sk-top" not in text and "Bearer x" not in text and "hf_abc" not in text
    assert meta.engine_options == {"headers": {"Authorization": "***"}, "extra_body": {"hf_token": "***", "top_k": 5}}
    assert meta.prompt.templates == ["ioi_cpp.j2"] and meta.problem_set.codes == ["rainfall"]
    assert meta.judge.backend == "local" and meta.judge.isolation is None  # no box was opened


def test_stored_start_and_a_run_from_before(tmp_path: Path) -> None:
    store = RunFolder(tmp_path / "run").open_store()
    assert read_metadata(store) is None  # no config yet
    config = _config("Org/Model")
    store.set_meta("config", config.stored())
    first = mark_started(store)
    assert mark_started(store) == first  # a resume keeps the first start
    meta = read_metadata(store)
    assert isinstance(meta, RunMetadata) and meta.started_at == first and meta.ioi_eval_version is None
    assert meta.sampling == SamplingConfig() and meta.problem_set.content_sha256 is None
    assert json.loads(meta.model_dump_json())["model"]["id"] == "Org/Model"
    store.close()
    assert from_config(config.stored()).config_fingerprint == config.fingerprint()


@pytest.mark.parametrize(("spec", "name"), [("hf:open-r1/ioi", "hf:open-r1/ioi"), ("/data/ioi2024/", "ioi2024"),
                                            ("problems", "problems")])
def test_set_name(spec: str, name: str) -> None:
    assert set_name(spec) == name
