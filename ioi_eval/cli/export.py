"""``ioi-eval export cots``: runs to a CodeForces-CoTs-style Hugging Face dataset."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from ..errors import IoiEvalError
from .common import err, out, reported_errors

app = typer.Typer(help="Export runs as datasets.", no_args_is_help=True)


@app.command("cots")
def cots(
    run_dirs: Annotated[list[Path], typer.Argument(help="run folders (written by ioi-eval run / ci)")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="output folder (load_from_disk; Parquet under "
                                                              "parquet/)")],
    verified_only: Annotated[bool, typer.Option("--verified-only", help="only solutions that pass every test")]
    = False,
    min_score: Annotated[float | None, typer.Option("--min-score", help="only submissions scoring at least this "
                                                                        "many points")] = None,
    max_tokens: Annotated[int | None, typer.Option("--max-tokens", help="drop generations longer than this many "
                                                                        "completion tokens (when counted)")] = None,
    max_chars: Annotated[int | None, typer.Option("--max-chars", help="drop generations longer than this many "
                                                                      "characters")] = None,
    decontaminate: Annotated[list[Path] | None, typer.Option(
        "--decontaminate", help="file of problem ids to leave out (one per line, or a JSON list); repeatable")]
    = None,
    problems: Annotated[str | None, typer.Option("--problems", help="where the runs' problems are now (default: "
                                                                    "the source each run recorded)")] = None,
    force: Annotated[bool, typer.Option("--force", help="replace an earlier export in --out")] = False,
    push_to_hub: Annotated[str | None, typer.Option("--push-to-hub", help="also push to this Hub dataset repo "
                                                                          "(needs HF_TOKEN or a login)")] = None,
    private: Annotated[bool, typer.Option("--private", help="with --push-to-hub: a private repo")] = False,
    config_name: Annotated[str, typer.Option("--config-name", help="with --push-to-hub: the dataset config")]
    = "default",
) -> None:
    """Write the generations of runs as a codeforces-cots-style dataset (saved to disk and as Parquet)."""
    with reported_errors():
        export_cots(run_dirs, out_dir, verified_only=verified_only, min_score=min_score, max_tokens=max_tokens,
                    max_chars=max_chars, decontaminate=decontaminate or [], problems=problems, force=force,
                    push_to_hub=push_to_hub, private=private, config_name=config_name)


def export_cots(run_dirs: list[Path], out_dir: Path, *, verified_only: bool = False, min_score: float | None = None,
                max_tokens: int | None = None, max_chars: int | None = None, decontaminate: list[Path] | None = None,
                problems: str | None = None, force: bool = False, push_to_hub: str | None = None,
                private: bool = False, config_name: str = "default") -> Path:
    """The export behind the command; returns the output folder."""
    from ..export.cots import Filters, read_id_list, read_run
    from ..export.dataset import build_dataset, dataset_card, push_dataset, write_dataset

    exclude: set[str] = set()
    for path in decontaminate or []:
        exclude |= read_id_list(path)
    filters = Filters(verified_only=verified_only, min_score=min_score, max_tokens=max_tokens, max_chars=max_chars,
                      exclude=exclude)
    runs = [read_run(d, problems, warn=lambda m: err.print(m, style="yellow", markup=False)) for d in run_dirs]
    kept: list[dict] = []
    dropped_all: Counter = Counter()
    skipped_all: Counter = Counter()
    per_run = []
    for run in runs:
        rows, dropped = filters.apply(run.rows)
        kept += rows
        per_run.append((run.run_dir.name, run.model, len(rows)))
        dropped_all.update(dropped)
        skipped_all.update(run.skipped)
    left_out = ", ".join(f"{k}: {v}" for k, v in sorted({**skipped_all, **dropped_all}.items())) or "nothing"
    if not kept:
        raise IoiEvalError(f"nothing to export: no rows left (left out: {left_out})")
    described = [f for f, on in (("verified only", verified_only), (f"min score {min_score}", min_score is not None),
                                 (f"max {max_tokens} completion tokens", max_tokens is not None),
                                 (f"max {max_chars} characters", max_chars is not None),
                                 (f"decontaminated against {len(exclude)} problem id(s) from "
                                  f"{', '.join(str(p) for p in decontaminate or [])}", bool(exclude))) if on]
    ds = build_dataset(kept)
    card = dataset_card(runs=per_run, filters=described, dropped=dropped_all, skipped=skipped_all, rows=len(kept),
                        verified=sum(1 for r in kept if r["verified"]))
    parquet = write_dataset(ds, out_dir, force=force, card=card)
    out.print(f"exported {len(kept)} row(s) to {out_dir} (Parquet: {parquet}); left out: {left_out}", markup=False)
    if push_to_hub:
        url = push_dataset(ds, push_to_hub, private=private, config_name=config_name, saved_at=out_dir)
        out.print(f"pushed to the Hub: {url}", markup=False)
    return out_dir
