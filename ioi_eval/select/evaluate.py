"""``ioi-eval select``'s library entry point: score each run's problems under each strategy and budget."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import IoiEvalError, SelectError
from ..judge.judge import Judge
from ..judge.languages import language_of
from ..problem.model import Problem
from ..record.folder import RunFolder
from ..record.store import ExtraInput, GeneratorRecord, RunStore, Sample
from . import STRATEGIES, get_strategy
from .base import Pool, Strategy, make_pool
from .behaviour import BehaviourRunner, SampleCode, digest
from .model import Cell, InputsInfo, ProblemSelect, RunSelect, SelectReport, StrategyInfo, WorkInfo
from .random_draw import percentile_interval

DEFAULT_BUDGETS = "1,5,10,50,all"
SELECT_JSON = "select.json"


def parse_budgets(spec: str) -> list[int | None]:
    """``"1,5,10,50,all"`` -> [1, 5, 10, 50, None] (None: no limit); a bad item is a :class:`SelectError`."""
    out: list[int | None] = []
    for item in (s.strip() for s in spec.split(",")):
        if item == "all":
            out.append(None)
        elif item.isdigit() and int(item) > 0:
            out.append(int(item))
        else:
            raise SelectError(f"--budget: {item!r} is not a positive number of submissions or 'all'")
    if not out:
        raise SelectError("--budget: no budget given")
    return sorted(set(out), key=lambda b: float("inf") if b is None else b)


def budget_label(budget: int | None) -> str:
    """The label of a budget in tables and select.json."""
    return "all" if budget is None else str(budget)


def parse_strategies(spec: str | None) -> list[Strategy]:
    """Strategies by comma-separated names (None: all of them, in registry order)."""
    names = list(STRATEGIES) if not spec else [s.strip() for s in spec.split(",") if s.strip()]
    return [get_strategy(n) for n in dict.fromkeys(names)]


def _problems(config: dict, override: str | None) -> dict[str, Problem]:
    from ..sources import load_problem_set

    spec = override or str(config.get("problems", ""))
    try:
        problems = load_problem_set(spec, config.get("problem_codes") or None)
    except IoiEvalError as exc:
        raise SelectError(f"the run's problems ({spec}) cannot be loaded: {exc}; pass --problems") from exc
    return {p.code: p for p in problems}


def select_run(run_dir: Path, strategies: Sequence[Strategy], budgets: Sequence[int | None], seed: int,
               judge_factory: Callable[[], Judge], problems_override: str | None = None) -> RunSelect:
    """Score one run folder; extra sandbox work goes into (and comes from) its store."""
    folder = RunFolder(run_dir)
    folder.check()
    store = RunStore(folder.store_path)  # written: the extra runs are cached in it
    runner = BehaviourRunner(store, judge_factory)
    try:
        config = store.get_meta("config")
        if config is None:
            raise SelectError(f"{run_dir}: the run store holds no configuration (an interrupted first run?)")
        problems = _problems(config, problems_override)
        by_problem: dict[str, list[Sample]] = {}
        for sample in store.samples():
            by_problem.setdefault(sample.problem, []).append(sample)
        generators = {g.problem: g for g in store.generators()}
        rows, notes = [], []
        draws_total: dict[tuple[str, str], list[float]] = {}
        for code, problem in problems.items():
            if problem.scoring == "codeforces":
                notes.append(f"{code}: scored the Codeforces way (solved, pass@k): no submission budget, left out")
                continue
            pool = make_pool(problem, by_problem.get(code, []))
            inputs_info = None
            if any(s.needs_behaviour for s in strategies):
                inputs_info = _measure(pool, problem, by_problem.get(code, []), generators.get(code),
                                       int(config.get("generate_inputs", 0)), runner)
            scores: dict[str, dict[str, Cell]] = {}
            for strategy in strategies:
                scores[strategy.name] = {}
                for budget in budgets:
                    o = strategy.outcome(pool, budget, seed)
                    label = budget_label(budget)
                    scores[strategy.name][label] = Cell(points=o.points, low=o.low, high=o.high,
                                                        submitted=o.submitted, note=o.note)
                    if o.draws:
                        acc = draws_total.setdefault((strategy.name, label), [0.0] * len(o.draws))
                        for i, d in enumerate(o.draws):
                            acc[i] += d
            rows.append(ProblemSelect(problem=code, max_score=problem.max_score, samples=len(pool.entries),
                                      usable=sum(1 for e in pool.entries if e.usable), inputs=inputs_info,
                                      scores=scores))
        totals = _totals(rows, strategies, budgets, draws_total)
        w = runner.work
        return RunSelect(run=folder.name, path=str(run_dir), model=str(config.get("model", "")),
                         max_total=sum(r.max_score for r in rows), problems=rows, totals=totals,
                         work=WorkInfo(runs=w.runs, cached=w.cached, generator_runs=w.generator_runs,
                                       sandbox_s=round(w.sandbox_s, 3)), notes=notes)
    finally:
        runner.close()
        store.close()


def _totals(rows: list[ProblemSelect], strategies: Sequence[Strategy], budgets: Sequence[int | None],
            draws_total: dict[tuple[str, str], list[float]]) -> dict[str, dict[str, Cell]]:
    totals: dict[str, dict[str, Cell]] = {}
    for strategy in strategies:
        totals[strategy.name] = {}
        for budget in budgets:
            label = budget_label(budget)
            cells = [r.scores[strategy.name][label] for r in rows]
            total = Cell(points=round(sum(c.points for c in cells), 2), submitted=sum(c.submitted for c in cells))
            draws = draws_total.get((strategy.name, label))
            if draws:  # paired draws: the interval of the total, not the sum of the problems' intervals
                low, high = percentile_interval(draws)
                total = total.model_copy(update={"low": round(low, 2), "high": round(high, 2)})
            totals[strategy.name][label] = total
    return totals


def _measure(pool: Pool, problem: Problem, samples: list[Sample], generator: GeneratorRecord | None, count: int,
             runner: BehaviourRunner) -> InputsInfo:
    """Fill ``pool.behaviour`` for the samples that pass the examples; say which inputs were used."""
    inputs: list[ExtraInput] = []
    failed = 0
    reason = ""
    if count > 0 and generator is not None:
        made = runner.generated_inputs(problem, generator, count)
        inputs = [i for i in made if i.sha256 is not None]
        failed = len(made) - len(inputs)
        if not made:
            reason = f"the model's generator gave no code ({generator.note or generator.error or generator.status})"
        elif not inputs:
            reason = f"the model's generator gave no input ({next(i.error for i in made if i.error)})"
    elif count > 0:
        reason = "the run has no input generator for this problem"
    else:
        reason = "the run was made without --generate-inputs"
    origin = "generated"
    if not inputs:
        inputs = _sample_inputs(problem)
        origin = "samples" if inputs else "none"
        reason = (f"clustered on the {len(inputs)} sample inputs: {reason}" if inputs
                  else f"no inputs to cluster on ({reason}; the problem has no samples subtask): one cluster per "
                       "target")
    by_key = {s.key: s for s in samples}
    runnable = [c for c in (_code(by_key[e.key]) for e in pool.entries if pool.passes_samples(e)) if c is not None]
    pool.behaviour = runner.behaviours(problem, runnable, inputs)
    pool.inputs_note = reason
    return InputsInfo(origin=origin, count=len(inputs), failed=failed, note=reason)


def _code(sample: Sample) -> SampleCode | None:
    """The code of a sample: extracted from its completion, or the reference solution's file it was judged from."""
    g, j = sample.generation, sample.judgement
    if j is None:
        return None
    if j.extraction == "source" and g.source_path:
        path = Path(g.source_path)
        try:
            language = language_of(path)
        except (IoiEvalError, ValueError):
            return None  # not a program (an output-only answer): nothing to run, the sample stays alone
        if not path.is_file():
            return None
        return SampleCode(key=g.key, language=language, code=path.read_text(errors="replace"))
    return SampleCode(key=g.key, language=g.language, code=j.code) if j.code else None


def _sample_inputs(problem: Problem) -> list[ExtraInput]:
    """The inputs of the samples subtask (read from the package; no sandbox needed)."""
    samples = next((st for st in problem.subtasks if st.points == 0), None)
    if samples is None:
        return []
    out = []
    for name in samples.tests:
        data = problem.tests[name].input.read_bytes()
        out.append(ExtraInput(name=name, origin="samples", sha256=digest(data), data=data, error=None, wall_s=None))
    return out


def select_runs(run_dirs: Sequence[Path], strategies: Sequence[Strategy], budgets: Sequence[int | None], seed: int,
                judge_factory: Callable[[], Judge], problems_override: str | None = None) -> SelectReport:
    """Score every run; the report of them all (``select.json``)."""
    if not run_dirs:
        raise SelectError("no run folder given")
    runs = [select_run(Path(d), strategies, budgets, seed, judge_factory, problems_override) for d in run_dirs]
    return SelectReport(seed=seed, budgets=[budget_label(b) for b in budgets],
                        strategies=[StrategyInfo(name=s.name, information=s.information, summary=s.summary)
                                    for s in strategies], runs=runs)


def write_json(report: SelectReport, path: Path) -> None:
    """Write ``select.json``."""
    path.write_text(json.dumps(report.model_dump(mode="json", by_alias=True), indent=2) + "\n")
