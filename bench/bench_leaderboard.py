"""Time ``ioi-eval leaderboard`` at IOI scale on synthetic runs (no judging involved).

    python bench/bench_leaderboard.py [runs] [samples]

Writes ``runs`` run folders, each with 6 problems x 8 subtasks x ``samples`` samples per subtask
(default 5 x 50: 2,400 judged submissions per run, 60 tests each), then times reading them and
building the leaderboard (bootstrap included), each format, and the HTML site (with a page per 20 submissions).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from ioi_eval.generate.base import Completion, GenerationRequest
from ioi_eval.judge.results import CompileResult, JudgeReport, SubtaskResult, TestResult, Verdict
from ioi_eval.record.folder import RunFolder
from ioi_eval.report.build import build_leaderboard
from ioi_eval.report.formats import to_csv, to_json, to_markdown
from ioi_eval.report.html import write_site
from ioi_eval.scoring.run_score import ProblemScore, RunScore, SubtaskScore

PROBLEMS = ["nile", "message", "tree", "hieroglyphs", "mosaic", "sphinx"]
SUBTASKS = [(f"{i:02d}", 0.0 if i == 0 else p) for i, p in enumerate([0, 5, 7, 10, 11, 14, 17, 36])]
TESTS_PER_SUBTASK = 8
FAILS = [Verdict.WA, Verdict.TLE, Verdict.RE, Verdict.MLE]


def _report(problem: str, skill: float, rng: random.Random) -> JudgeReport:
    if rng.random() < 0.05:
        tests = [TestResult(name=f"{s}-{t}", verdict=Verdict.CE) for s, _ in SUBTASKS for t in range(TESTS_PER_SUBTASK)]
        subs = [SubtaskResult(name=s, points=p, score=0, status=Verdict.CE) for s, p in SUBTASKS]
        return JudgeReport(problem=problem, score=0, max_score=100, compile=CompileResult(ok=False), subtasks=subs,
                           tests=tests)
    tests, subs = [], []
    for i, (s, p) in enumerate(SUBTASKS):
        ok = rng.random() < skill * (1 - i / 10)
        verdict = Verdict.AC if ok else rng.choice(FAILS)
        tests += [TestResult(name=f"{s}-{t}", verdict=verdict if t == 0 else Verdict.AC, score=1.0 if ok else 0.0)
                  for t in range(TESTS_PER_SUBTASK)]
        subs.append(SubtaskResult(name=s, points=p, score=p if ok else 0.0, status=verdict))
    return JudgeReport(problem=problem, score=sum(x.score for x in subs), max_score=100,
                       compile=CompileResult(ok=True), subtasks=subs, tests=tests)


def make_run(folder: Path, model: str, skill: float, samples: int, seed: int) -> None:
    rng = random.Random(seed)
    run = RunFolder(folder)
    store = run.open_store()
    store.set_meta("config", {"model": model, "engine": "vllm", "problems": "ioi2024/", "problem_codes": PROBLEMS,
                              "samples": samples, "per": "subtask", "language": "cpp"})
    problems = []
    for code in PROBLEMS:
        reqs = [GenerationRequest(key=f"{code}/{s}/{i}", problem=code, subtask=s, sample=i, language="cpp",
                                  messages=[]) for s, p in SUBTASKS if p > 0 for i in range(samples)]
        store.add_requests(reqs)
        best = [0.0] * len(SUBTASKS)
        for r in reqs:
            store.save_completion(Completion(key=r.key, text="```cpp\nint main(){}\n```"))
            store.save_extraction(r.key, "int main(){}", "ok")
            rep = _report(code, skill, rng)
            store.save_report(r.key, rep.model_dump_json(), rep.score)
            best = [max(b, s.score) for b, s in zip(best, rep.subtasks, strict=True)]
        total = sum(best)
        problems.append(ProblemScore(
            problem=code, max_score=100, score=total, oracle=total, mean_single=0, generations=len(reqs),
            failed_generations=0, no_code=0, judged=len(reqs), submissions_used=50,
            subtasks=[SubtaskScore(name=s, points=p, best=b) for (s, p), b in zip(SUBTASKS, best, strict=True)]))
    store.close()
    score = RunScore(model=model, total=sum(p.score for p in problems), max_total=600,
                     oracle_total=sum(p.oracle for p in problems), mean_single_total=0, problems=problems)
    run.summary_path.write_text(score.model_dump_json())


def timed(what: str, fn):
    t = time.perf_counter()
    out = fn()
    print(f"| {what} | {time.perf_counter() - t:.2f} s |")
    return out


def main() -> None:
    n_runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    samples = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
        root = Path(tmp)
        dirs = [root / f"model-{i}" for i in range(n_runs)]
        for i, d in enumerate(dirs):
            make_run(d, f"model-{i}", 0.3 + 0.1 * i, samples, i)
        subs = len(PROBLEMS) * (len(SUBTASKS) - 1) * samples
        print(f"{n_runs} runs x {subs} judged submissions ({len(SUBTASKS) * TESTS_PER_SUBTASK} tests each)\n")
        print("| step | time |\n|---|---|")
        lb = timed("read runs + build (bootstrap, 4000 resamples)", lambda: build_leaderboard(dirs))
        timed("json + csv + md", lambda: (to_json(lb), to_csv(lb), to_markdown(lb)))
        timed("html site", lambda: write_site(lb, root / "site"))
        files = [f for f in (root / "site").rglob("*") if f.is_file()]
        size = sum(f.stat().st_size for f in files)
        largest = max(f.stat().st_size for f in files)
        print(f"\nsite: {size / 1024:.0f} KiB in {len(files)} files (submission pages included), largest "
              f"{largest / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
