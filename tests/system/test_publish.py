"""``ioi-eval leaderboard --push-to-hub ORG/NAME``: what is staged and uploaded (checked at the HfApi boundary with a
recording subclass), and the clear errors that keep the local copy: no token, offline, an unreachable Hub, a bad id.
A live push runs only with ``HF_TOKEN`` and ``IOI_EVAL_LIVE_HUB_REPO`` set."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ioi_eval.report.build import build_leaderboard
from ioi_eval.report.publish import DETAIL_FIELDS, publish, stage_dir
from tests.fixtures.leaderboard_runs import make_run

datasets = pytest.importorskip("datasets")
huggingface_hub = pytest.importorskip("huggingface_hub")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("publish-runs")
    return [make_run(root, "strong-model", samples=2), make_run(root, "weak-model", samples=2)]


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The CLI with a Hugging Face environment of our own: no token from this machine, nothing cached."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("HF_") and k != "HUGGING_FACE_HUB_TOKEN"}
    base.update({"HF_HOME": str(cwd / "hf-home"), "COLUMNS": "200", **env})
    return subprocess.run([sys.executable, "-m", "ioi_eval.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=base)


class RecordingApi(huggingface_hub.HfApi):
    """HfApi that records the calls a push makes, and what the folder held when it was uploaded."""

    def __init__(self) -> None:
        super().__init__(endpoint="http://127.0.0.1:9")  # nothing is sent: every method used is overridden
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.uploaded: dict[str, bytes] = {}

    def create_repo(self, repo_id: str, **kwargs: Any) -> Any:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))
        return huggingface_hub.RepoUrl(f"https://huggingface.co/datasets/{repo_id}")

    def upload_folder(self, **kwargs: Any) -> Any:
        self.calls.append(("upload_folder", kwargs))
        folder = Path(kwargs["folder_path"])
        self.uploaded = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
        return huggingface_hub.CommitInfo(commit_url=f"https://huggingface.co/datasets/{kwargs['repo_id']}/commit/1",
                                          commit_message="m", commit_description="", oid="1" * 40)


def test_push_stages_the_board_the_details_and_the_site(runs: list[Path], tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    lb = build_leaderboard(runs)
    api = RecordingApi()
    staged, url = publish(lb, "ioi-org/board", root=tmp_path / "hub", api=api)
    assert staged == stage_dir("ioi-org/board", tmp_path / "hub") and url.endswith("/commit/1")
    (name0, create), (name1, upload) = api.calls
    assert name0 == "create_repo" and create["repo_id"] == "ioi-org/board"
    assert create["repo_type"] == "dataset" and create["exist_ok"] is True and create["token"] == "hf_test_token"
    assert name1 == "upload_folder" and upload["repo_id"] == "ioi-org/board" and upload["repo_type"] == "dataset"
    assert Path(upload["folder_path"]) == staged and upload["token"] == "hf_test_token"
    assert {"leaderboard.json", "data/details.parquet", "site/index.html", "README.md"} <= set(api.uploaded)
    board = json.loads(api.uploaded["leaderboard.json"])
    assert [e["label"] for e in board["entries"]] == [e.label for e in lb.entries]

    # the details: one row per sample of each run, as its run.sqlite holds them
    details = datasets.load_dataset(str(staged), "details", split="train")  # the card's config, as the Hub has it
    assert set(details.column_names) == set(DETAIL_FIELDS)
    expected: dict[tuple[str, str], tuple[float | None, str]] = {}
    for run in runs:
        with sqlite3.connect(run / "run.sqlite") as db:
            rows = db.execute("SELECT g.key, s.score, s.extraction FROM generations g "
                              "LEFT JOIN submissions s ON s.key = g.key").fetchall()
        label = next(e.label for e in lb.entries if Path(e.run_dir) == run)
        expected.update({(label, key): (score, extraction) for key, score, extraction in rows})
    got = {(r["model"], r["key"]): r for r in details}
    assert set(got) == set(expected) and len(details) == len(expected)
    for k, (score, extraction) in expected.items():
        row = got[k]
        assert row["extraction"] == extraction
        assert row["score"] == (pytest.approx(score) if score is not None else None)
        if row["score"] is not None:
            assert sum(st["score"] for st in row["subtasks"]) == pytest.approx(row["score"])
            assert row["tests"] and all(t["verdict"] for t in row["tests"])
            assert row["code"]
    verdicts = {r["verdict"] for r in details}
    assert {"AC", "NC", "CE"} <= verdicts
    nc = next(r for r in details if r["verdict"] == "NC")
    assert nc["code"] is None and nc["tests"] == [] and "not sure" in nc["text"]


def test_push_reuses_the_html_folder(runs: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ioi_eval.report.html import write_site

    monkeypatch.setenv("HF_TOKEN", "hf_test_token")
    lb = build_leaderboard(runs[:1])
    site = tmp_path / "site"
    write_site(lb, site)
    (site / "marker.txt").write_text("the --html folder")
    api = RecordingApi()
    publish(lb, "ioi-org/one", site=site, root=tmp_path / "hub", api=api)
    assert api.uploaded["site/marker.txt"] == b"the --html folder"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("env", "message"), [
    ({}, "needs a token: set HF_TOKEN or run `hf auth login`"),
    ({"HF_TOKEN": "hf_x", "HF_HUB_OFFLINE": "1"}, "the Hugging Face Hub is offline"),
    ({"HF_TOKEN": "hf_x", "HF_ENDPOINT": "http://127.0.0.1:{port}"}, "push to ioi-org/board failed:"),
], ids=["no-token", "offline", "unreachable"])
def test_push_errors_are_one_line_and_keep_the_local_copy(runs: list[Path], tmp_path: Path, env: dict[str, str],
                                                           message: str) -> None:
    env = {k: v.format(port=_free_port()) for k, v in env.items()}
    res = cli("leaderboard", *map(str, runs), "--html", str(tmp_path / "site"), "--push-to-hub", "ioi-org/board",
              cwd=tmp_path, env=env)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and message in res.stderr, res.stderr
    staged = tmp_path / "leaderboard-hub" / "ioi-org--board"
    assert f"the local copy is kept at {staged.resolve()}" in " ".join(res.stderr.split())
    assert "Creating parquet" not in res.stderr  # no progress bar noise around the one error line
    for name in ("leaderboard.json", "data/details.parquet", "site/index.html", "README.md"):
        assert (staged / name).is_file(), name
    assert (tmp_path / "site" / "index.html").is_file()  # the --html site, written before the push
    assert "strong-model" in res.stdout  # the board was printed before the push


def test_bad_repo_id_is_a_clear_error(runs: list[Path], tmp_path: Path) -> None:
    res = cli("leaderboard", str(runs[0]), "--push-to-hub", "no-slash", cwd=tmp_path, env={"HF_TOKEN": "hf_x"})
    assert res.returncode == 2 and "ORG/NAME" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.skipif(not (os.environ.get("HF_TOKEN") and os.environ.get("IOI_EVAL_LIVE_HUB_REPO")),
                    reason="HF_TOKEN and IOI_EVAL_LIVE_HUB_REPO are not set")
def test_live_push(runs: list[Path], tmp_path: Path) -> None:
    repo = os.environ["IOI_EVAL_LIVE_HUB_REPO"]
    _, url = publish(build_leaderboard(runs), repo, root=tmp_path / "hub", private=True)
    files = set(huggingface_hub.HfApi().list_repo_files(repo, repo_type="dataset"))
    assert {"leaderboard.json", "data/details.parquet", "site/index.html", "README.md"} <= files, url
