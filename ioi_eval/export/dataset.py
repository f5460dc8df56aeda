"""Writing an export: a ``datasets`` folder (``load_from_disk``), a Parquet copy, a card; and the Hub push.

Layout of ``--out DIR``::

    DIR/                       datasets.Dataset.save_to_disk (state.json, dataset_info.json, *.arrow)
    DIR/parquet/train-00000-of-00001.parquet
    DIR/README.md              what was exported from which runs, with which filters
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from ..errors import ExportError
from .cots import OUR_FIELDS, features

PARQUET_NAME = "train-00000-of-00001.parquet"
_HINT = "pip install datasets  (or: pip install 'ioi-eval[export]')"


def _datasets() -> Any:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - exercised only without datasets
        raise ExportError(f"exporting a dataset needs the 'datasets' package: {_HINT}") from exc
    return datasets


def _prepare_out(out: Path, force: bool) -> None:
    """An empty output folder; ``force`` replaces an earlier export, never an unrelated folder."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ExportError(f"{out}: folder is not empty (pass --force to replace an earlier export)")
        if not (out / "state.json").is_file():
            raise ExportError(f"{out}: not an earlier export (no state.json); refusing to delete it")
        shutil.rmtree(out)


def build_dataset(rows: list[dict[str, Any]]) -> Any:
    """A ``datasets.Dataset`` of export rows, typed as codeforces-cots (plus our fields)."""
    return _datasets().Dataset.from_list(rows, features=features())


def write_dataset(ds: Any, out: Path, *, force: bool = False, card: str = "") -> Path:
    """Save ``ds`` to ``out`` (``load_from_disk``), as Parquet under ``out/parquet/`` and a README card;
    returns the Parquet file."""
    _prepare_out(out, force)
    ds.save_to_disk(str(out))
    parquet = out / "parquet" / PARQUET_NAME
    parquet.parent.mkdir(parents=True, exist_ok=True)
    ds.to_parquet(str(parquet))
    if card:
        (out / "README.md").write_text(card, encoding="utf-8")
    return parquet


def dataset_card(*, runs: list[tuple[str, str, int]], filters: list[str], dropped: Counter, skipped: Counter,
                 rows: int, verified: int) -> str:
    """A short Markdown card: provenance (run folder, model, rows), filters and counts, our extra fields."""
    lines = ["# ioi-eval export (codeforces-cots layout)", "",
             "Generations judged by ioi-eval, in the fields of open-r1's `codeforces-cots` plus ours.", "",
             f"Rows: {rows} ({verified} verified: every test accepted).", "", "## Runs", "",
             "| run | model | rows |", "|---|---|---:|"]
    lines += [f"| {run} | {model} | {n} |" for run, model, n in runs]
    lines += ["", "## Filters", ""] + ([f"- {f}" for f in filters] or ["- none"])
    if dropped or skipped:
        lines += ["", "## Left out", ""]
        lines += [f"- {why}: {n}" for why, n in sorted({**skipped, **dropped}.items())]
    lines += ["", "## Fields added to codeforces-cots'", ""]
    lines += [f"- `{name}`: {meaning}" for name, meaning in OUR_FIELDS.items()]
    lines += ["", "Replay through the judge: `ioi-eval run --engine replay --model <this folder> ...`", ""]
    return "\n".join(lines)


def hub_token() -> str | None:
    """The Hugging Face token (``$HF_TOKEN`` or the one ``hf auth login`` stored), or None."""
    try:
        from huggingface_hub import get_token
    except ImportError:  # pragma: no cover - datasets depends on huggingface_hub
        return None
    return get_token()


def push_dataset(ds: Any, repo: str, *, private: bool = False, config_name: str = "default",
                 saved_at: Path | None = None) -> str:
    """Push ``ds`` to the Hub as ``repo`` (split ``train``); returns the commit URL (or repo) for the log."""
    where = f" (the dataset is saved at {saved_at})" if saved_at else ""
    token = hub_token()
    if not token:
        from ..hub import token_advice

        raise ExportError(f"pushing to the Hugging Face Hub needs a token: {token_advice()}{where}")
    try:
        info = ds.push_to_hub(repo, config_name=config_name, split="train", private=private, token=token,
                              commit_message="ioi-eval export cots")
    except Exception as exc:  # the Hub client raises HTTP, network and validation errors of many types
        raise ExportError(f"push to {repo} failed: {type(exc).__name__}: {exc}{where}") from exc
    return str(getattr(info, "commit_url", None) or repo)
