"""The Ray driver's ceiling as a user's run records it: ``ioi-eval run --backend ray`` into its run store, with
judge actors that answer every submission at once from a canned 100-test report (nothing runs on the nodes).

    python bench/bench_ray_driver.py [--subs 3000] [--repeats 3] [--baseline REV] [--profile DIR] [--out FILE]

Each measurement is a fresh process (its own local Ray cluster, started by the run as a user's would be) that
calls :func:`ioi_eval.run.evaluate.evaluate` as ``ioi-eval run`` does (engine ``replay``: ``--subs`` recorded
completions of one 100-test problem; ``--backend ray``, the backend made with ``canned_report``, 2 actors x 32
slots asking no CPU). Two figures per process:

- **run**: generation (replay), extraction, judging and the store's writes overlapping, as a new run goes;
- **resume**: the same run folder with its reports cleared, run again: judging and recording only (a resumed
  run's path), i.e. the driver's ceiling for judged submissions.

The rate is judged submissions per second between the first and the last ``on_judged`` event, Python's GC on
(as users run it). ``--baseline REV`` measures ``git archive REV`` beside this tree, alternating, in the same
invocation. ``--profile DIR`` also writes a py-spy (if on PATH or in $PY_SPY) flame graph of one resume per tree.
Results: medians (and all values) as JSON on stdout; ``--out`` appends a short table to that file.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _load() -> float:
    return os.getloadavg()[0]


def child(args: argparse.Namespace) -> None:
    """One process, one tree (the one on ``sys.path``): a run and a resume; prints one JSON line."""
    from ioi_eval.run.evaluate import evaluate
    from ioi_eval.run.events import Progress

    work = Path(args.work)
    canned = (work / "canned.json").read_bytes()
    rows = work / "rows.jsonl"
    gc_s = [0.0]
    started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:  # time in Python's cyclic GC, every generation
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            gc_s[0] += time.perf_counter() - started.pop()

    spy: list[subprocess.Popen] = []

    def once(run_dir: Path) -> dict:
        marks: list[tuple[float, float, float]] = []
        lock = threading.Lock()

        def judged(key: str, report: object) -> None:
            assert report is not None, key
            with lock:
                marks.append((time.perf_counter(), time.process_time(), gc_s[0]))
                if len(marks) == args.subs and spy:  # the profile covers judging only, not the scores after it
                    spy[0].send_signal(2)

        gc.callbacks.append(on_gc)
        try:
            out = evaluate(model=str(rows), problems=str(work / "problems"), engine="replay", engine_options={},
                           samples=args.subs, per="problem", language="cpp", only=None, temperature=0.0, top_p=1.0,
                           max_tokens=None, seed=0, prompt_template=None, run_dir=run_dir, new_run=False,
                           backend="ray", workers=64, progress=Progress(on_judged=judged),
                           backend_options={"canned_report": canned, "slots": 32, "actor_cpus": 0})
        finally:
            gc.callbacks.remove(on_gc)
        assert out.result.judged == args.subs and not out.result.judge_errors, out.result
        assert len(marks) == args.subs
        (t0, c0, g0), (t1, c1, g1) = marks[0], marks[-1]
        n = len(marks) - 1
        return {"subs_per_s": n / (t1 - t0), "cpu_ms": (c1 - c0) / n * 1000, "gc_share": (g1 - g0) / (t1 - t0)}

    run_dir = work / f"run-{os.getpid()}"
    load0 = _load()
    first = once(run_dir)
    db = sqlite3.connect(run_dir / "run.sqlite")
    with db:
        db.execute("UPDATE submissions SET report=NULL, score=NULL")
    db.close()
    if args.spy_out:  # py-spy samples this process (all threads, native frames off) during the resume
        gil = ["--gil"] if os.environ.get("PY_SPY_GIL") else []
        spy.append(subprocess.Popen([args.spy, "record", "-o", args.spy_out, "-f", "speedscope", "-r", "200",
                                     *gil, "-p", str(os.getpid()), "--nonblocking"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL))
        time.sleep(1.0)
    resume = once(run_dir)
    if spy:
        spy[0].wait(30)
    shutil.rmtree(run_dir, ignore_errors=True)
    print(json.dumps({"run": first, "resume": resume, "load": (load0 + _load()) / 2}), flush=True)


def prepare(work: Path, subs: int) -> None:
    """The 100-test problem, a canned report of it (judged for real on the local backend), the replay rows."""
    sys.path[:0] = [str(REPO), str(REPO / "sandbox"), str(REPO / "bench")]
    from aplusb_jobs import APLUSB
    from bench_ray import many_tests

    from ioi_eval.judge.judge import Judge
    from ioi_eval.judge.submission import Submission
    from ioi_eval.sources.loader import load_problem

    package = many_tests(work / "problems" / "sum100")
    with Judge("local", workers=1, cache_dir=work / "cache") as judge:
        report = judge.judge(load_problem(package), Submission(name="sum.cpp", language="cpp",
                                                               source=APLUSB.encode()))
    assert report.score == 100 and len(report.tests) == 100
    (work / "canned.json").write_text(report.model_dump_json())
    text = f"```cpp\n{APLUSB}```"
    with (work / "rows.jsonl").open("w") as f:
        for i in range(subs):
            f.write(json.dumps({"problem": "sum100", "sample": i, "text": text}) + "\n")


def measure(tree: Path, work: Path, args: argparse.Namespace, spy_out: str = "") -> dict:
    env = {**os.environ, "PYTHONPATH": f"{tree}:{tree / 'sandbox'}", "IOI_EVAL_RAY_STATUS_S": "0",
           "IOI_EVAL_RAY_BLOBS": str(work / "blobs"), "IOI_EVAL_CACHE": str(work / "cache")}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--work", str(work), "--subs", str(args.subs)]
    if spy_out:
        cmd += ["--spy", args.spy, "--spy-out", spy_out]
    res = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True, timeout=900)
    if res.returncode != 0:
        raise SystemExit(f"{tree}: bench child failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subs", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline", default=None, help="a git revision measured beside this tree")
    ap.add_argument("--profile", type=Path, default=None, help="folder for py-spy flame graphs of one resume")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--work", default="", help=argparse.SUPPRESS)
    ap.add_argument("--spy", default="", help=argparse.SUPPRESS)
    ap.add_argument("--spy-out", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    args.spy = os.environ.get("PY_SPY") or shutil.which("py-spy") or ""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        prepare(work, args.subs)
        trees = {"this tree": REPO}
        if args.baseline:
            base = work / "baseline"
            base.mkdir()
            archive = subprocess.run(["git", "-C", str(REPO), "archive", args.baseline], check=True,
                                     capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive, check=True)
            for so in (REPO / "sandbox" / "ioi_box").glob("_native*.so"):  # the native core is built, not tracked
                shutil.copy2(so, base / "sandbox" / "ioi_box" / so.name)
            trees = {f"baseline {args.baseline}": base, **trees}
        got: dict[str, list[dict]] = {name: [] for name in trees}
        for r in range(args.repeats):
            for name, tree in trees.items():
                spy_out = ""
                if args.profile and r == 0 and args.spy:
                    args.profile.mkdir(parents=True, exist_ok=True)
                    spy_out = str(args.profile / f"resume-{name.split()[0]}.speedscope.json")
                got[name].append(measure(tree, work, args, spy_out))
                print(name, json.dumps(got[name][-1]), file=sys.stderr, flush=True)
    summary = {}
    for name, runs in got.items():
        summary[name] = {f"{phase}_{k}": statistics.median(x[phase][k] for x in runs)
                         for phase in ("run", "resume") for k in ("subs_per_s", "cpu_ms", "gc_share")}
        summary[name]["load"] = statistics.median(x["load"] for x in runs)
        summary[name]["all_resume_subs_per_s"] = [round(x["resume"]["subs_per_s"]) for x in runs]
        summary[name]["all_run_subs_per_s"] = [round(x["run"]["subs_per_s"]) for x in runs]
    print(json.dumps({"subs": args.subs, "repeats": args.repeats, "trees": summary}, indent=1))
    if args.out:
        write_table(summary, args)


def write_table(summary: dict, args: argparse.Namespace) -> None:
    lines = [f"`python bench/bench_ray_driver.py --subs {args.subs} --repeats {args.repeats}"
             f"{' --baseline ' + args.baseline if args.baseline else ''}` ({time.strftime('%Y-%m-%d %H:%M')}, "
             f"{os.cpu_count()} CPUs; medians, all values in brackets):", "",
             "| tree | run: subs/s | resume: subs/s | driver CPU per sub (resume) | GC share of wall (resume) | load |",
             "|---|---|---|---|---|---|"]
    for name, s in summary.items():
        lines.append(f"| {name} | {s['run_subs_per_s']:.0f} ({', '.join(map(str, s['all_run_subs_per_s']))}) "
                     f"| {s['resume_subs_per_s']:.0f} ({', '.join(map(str, s['all_resume_subs_per_s']))}) "
                     f"| {s['resume_cpu_ms']:.2f} ms | {s['resume_gc_share'] * 100:.0f} % | {s['load']:.1f} |")
    with args.out.open("a") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
