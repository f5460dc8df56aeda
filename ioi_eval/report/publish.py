"""Publishing a leaderboard on the Hugging Face Hub (``ioi-eval leaderboard --push-to-hub ORG/NAME``).

What is pushed, as one commit to a dataset repository (the local copy, staged first, is what is uploaded):

* ``leaderboard.json``: the board, as ``--format json`` prints it;
* ``data/details.parquet``: one row per sample of every run, read from its ``run.sqlite`` (the ``details``
  config of the dataset; see :data:`DETAIL_FIELDS`);
* ``site/``: the static site (the ``--html`` folder when one was written, else written here);
* ``README.md``: a dataset card saying what each file holds.

The stage is kept (``./leaderboard-hub/<org>--<name>``) whatever happens: a missing token, an offline machine or a
refused upload is a :class:`~ioi_eval.errors.PublishError` naming the cause and the staged copy, so nothing computed
is lost and the upload can be redone by hand.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from ..errors import IoiEvalError, PublishError
from ..record.folder import RunFolder
from ..record.store import Sample
from .build import submission_verdict
from .collect import SampleResult
from .formats import to_json
from .model import Leaderboard

#: Where a push is staged, under the current directory.
STAGE_ROOT = Path("leaderboard-hub")
_REPO = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")

#: The columns of ``data/details.parquet``, one row per sample.
DETAIL_FIELDS: dict[str, str] = {
    "model": "the run's label on the leaderboard",
    "run": "the run folder's name",
    "problem": "the problem code",
    "subtask": "the subtask the prompt targeted (null: the whole problem)",
    "sample": "the sample index within its prompt",
    "key": "the sample's key in the run (problem/subtask/sample)",
    "language": "the submission's language",
    "status": "the generation: done, failed or pending",
    "finish_reason": "why the completion ended (stop, length, ...)",
    "prompt_tokens": "prompt tokens",
    "completion_tokens": "completion tokens",
    "extraction": "ok (code found), no_code, source (a reference solution); null: not extracted",
    "verdict": "one verdict per submission: AC, or the verdict of its first subtask that lost points; NC, CE, SE",
    "score": "the submission's total points (null: not judged)",
    "max_score": "the problem's total points (null: not judged)",
    "subtasks": "per subtask: name, points, score, status",
    "tests": "per test: name, verdict, score, cpu_s, wall_s, memory_bytes",
    "code": "the code judged",
    "text": "the completion's answer (reasoning removed)",
    "reasoning": "the completion's reasoning, if any",
}


def login_hint() -> str:
    """The log-in command the installed ``huggingface_hub`` ships (``hf auth login`` since it has ``hf``)."""
    return "hf auth login" if find_spec("huggingface_hub.cli.hf") is not None else "huggingface-cli login"


def stage_dir(repo: str, root: Path | None = None) -> Path:
    """The local folder a push to ``repo`` is staged in."""
    return (root or STAGE_ROOT) / repo.replace("/", "--")


def _detail_row(model: str, run: str, s: Sample) -> dict[str, Any]:
    g, j = s.generation, s.judgement
    report = s.report
    verdict = None
    if j is not None:
        verdict = submission_verdict(SampleResult(key=s.key, problem=s.problem, group=g.subtask or "-", done=s.done,
                                                  has_code=s.has_code, report=report))
    return {
        "model": model, "run": run, "problem": g.problem, "subtask": g.subtask, "sample": g.sample, "key": g.key,
        "language": g.language, "status": g.status, "finish_reason": g.finish_reason,
        "prompt_tokens": g.prompt_tokens, "completion_tokens": g.completion_tokens,
        "extraction": j.extraction if j else None, "verdict": verdict,
        "score": report.score if report else None, "max_score": report.max_score if report else None,
        "subtasks": [{"name": st.name, "points": st.points, "score": st.score, "status": st.status.value}
                     for st in report.subtasks] if report else [],
        "tests": [{"name": t.name, "verdict": t.verdict.value, "score": t.score, "cpu_s": t.cpu_s, "wall_s": t.wall_s,
                   "memory_bytes": t.memory_bytes} for t in report.tests] if report else [],
        "code": j.code if j else None, "text": g.text, "reasoning": g.reasoning,
    }


def detail_rows(lb: Leaderboard) -> Iterator[dict[str, Any]]:
    """One row per sample of every run on the board (:data:`DETAIL_FIELDS`), read-only from each ``run.sqlite``."""
    for entry in lb.entries:
        folder = RunFolder(Path(entry.run_dir))
        with folder.reading() as store:
            samples = store.samples()
        for s in samples:
            yield _detail_row(entry.label, folder.name, s)


def _card(lb: Leaderboard, repo: str, n_rows: int) -> str:
    """The dataset card: a ``details`` config over the Parquet file, and what each file and column holds."""
    models = ", ".join(f"{e.label} ({e.total:g})" for e in lb.entries)
    lines = [
        "---", "configs:", "- config_name: details", "  data_files: data/details.parquet", "  default: true",
        "tags:", "- ioi-eval", "- leaderboard", "---", "", f"# {repo}", "",
        "An IOI leaderboard made by ioi-eval (`ioi-eval leaderboard --push-to-hub`).", "",
        f"Runs (total score): {models}.", "",
        "- `leaderboard.json`: the board (`ioi-eval leaderboard --format json`).",
        f"- `data/details.parquet` (config `details`, {n_rows} rows): one row per sample of every run.",
        "- `site/`: the static site (open `site/index.html`).", "", "## Columns of `details`", "",
    ]
    lines += [f"- `{name}`: {meaning}" for name, meaning in DETAIL_FIELDS.items()]
    lines += ["", "Replay one model's completions through the judge: filter `model`, save, then "
              "`ioi-eval run --engine replay --model <file>` (rows are matched by `key`).", ""]
    return "\n".join(lines)


def _write_details(rows: list[dict[str, Any]], path: Path) -> None:
    try:
        import datasets
    except ImportError as exc:
        raise PublishError("--push-to-hub needs the 'datasets' package: pip install 'ioi-eval[hf]'") from exc
    features = datasets.Features({
        **{name: datasets.Value("string") for name in ("model", "run", "problem", "subtask", "key", "language",
                                                      "status", "finish_reason", "extraction", "verdict", "code",
                                                      "text", "reasoning")},
        "sample": datasets.Value("int64"), "prompt_tokens": datasets.Value("int64"),
        "completion_tokens": datasets.Value("int64"), "score": datasets.Value("float64"),
        "max_score": datasets.Value("float64"),
        "subtasks": [{"name": datasets.Value("string"), "points": datasets.Value("float64"),
                      "score": datasets.Value("float64"), "status": datasets.Value("string")}],
        "tests": [{"name": datasets.Value("string"), "verdict": datasets.Value("string"),
                   "score": datasets.Value("float64"), "cpu_s": datasets.Value("float64"),
                   "wall_s": datasets.Value("float64"), "memory_bytes": datasets.Value("int64")}],
    })
    import pyarrow.parquet as pq  # datasets' own dependency

    table = datasets.Dataset.from_list(rows, features=features).data.table  # its schema carries the features
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)  # as Dataset.to_parquet, without its progress bar on stderr


def stage(lb: Leaderboard, repo: str, *, site: Path | None = None, root: Path | None = None) -> Path:
    """Write what a push to ``repo`` uploads into its stage folder (emptied first); returns the folder.

    ``site`` is the folder ``--html`` wrote (copied as ``site/``); without one the site is written there.
    """
    from .html import write_site

    out = stage_dir(repo, root)
    try:
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        (out / "leaderboard.json").write_text(to_json(lb))
        rows = list(detail_rows(lb))
        _write_details(rows, out / "data" / "details.parquet")
        if site is not None and site.is_dir():
            shutil.copytree(site, out / "site")
        else:
            write_site(lb, out / "site")
        (out / "README.md").write_text(_card(lb, repo, len(rows)))
    except OSError as exc:
        raise PublishError(f"{out}: cannot stage the push: {exc}") from exc
    return out


def upload(folder: Path, repo: str, *, api: Any = None, token: str | None = None, private: bool = False) -> str:
    """Upload the staged ``folder`` to the dataset repo ``repo`` (created if missing) in one commit; returns the
    commit's URL. Raises :class:`PublishError` (the stage is kept) when offline, without a token, or refused."""
    where = f"; the local copy is kept at {folder.resolve()}"
    try:
        from huggingface_hub import HfApi, constants, get_token
    except ImportError as exc:
        raise PublishError(f"--push-to-hub needs huggingface_hub: pip install 'ioi-eval[hf]'{where}") from exc
    if constants.HF_HUB_OFFLINE:
        raise PublishError(f"cannot push to {repo}: the Hugging Face Hub is offline (HF_HUB_OFFLINE is set){where}")
    token = token or get_token()
    if not token:
        raise PublishError(f"pushing to the Hugging Face Hub needs a token: set HF_TOKEN or run `{login_hint()}`"
                           f"{where}")
    api = api if api is not None else HfApi()
    try:
        api.create_repo(repo, repo_type="dataset", private=private, exist_ok=True, token=token)
        info = api.upload_folder(repo_id=repo, repo_type="dataset", folder_path=folder, token=token,
                                 commit_message="ioi-eval leaderboard")
    except Exception as exc:  # the Hub client raises HTTP, network and validation errors of many types
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise PublishError(f"push to {repo} failed: {type(exc).__name__}: {first_line}{where}") from exc
    return str(getattr(info, "commit_url", None) or f"{constants.ENDPOINT}/datasets/{repo}")


def publish(lb: Leaderboard, repo: str, *, site: Path | None = None, root: Path | None = None, api: Any = None,
            private: bool = False) -> tuple[Path, str]:
    """Stage and push ``lb`` to the Hub dataset ``repo`` (``ORG/NAME``); returns the stage and the commit URL."""
    if not _REPO.match(repo):
        raise IoiEvalError(f"--push-to-hub takes ORG/NAME (a Hub dataset id), not {repo!r}")
    folder = stage(lb, repo, site=site, root=root)
    return folder, upload(folder, repo, api=api, private=private)


__all__ = ["DETAIL_FIELDS", "detail_rows", "login_hint", "publish", "stage", "stage_dir", "upload"]
