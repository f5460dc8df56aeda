"""``ioi-eval doctor``: which isolation and accounting mechanisms this machine gives, and the probes behind it."""

from __future__ import annotations

import os
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from ..errors import IoiEvalError
from ..judge.languages import PYTHON
from .common import BackendOpt, RayAddressOpt, RayBoxOpt, backend_options, err, fail, out


@dataclass
class Finding:
    """One line of the doctor's report."""

    what: str
    ok: bool
    detail: str


def diagnose() -> list[Finding]:
    """Probe the machine: sandbox, cgroups, compilers; nothing is changed except a probe cgroup."""
    out = [Finding("kernel", True, f"{platform.system()} {platform.release()}"),
           Finding("user", True, "root (each untrusted run gets a fresh unprivileged uid)" if os.geteuid() == 0
                   else f"uid {os.geteuid()} (cannot switch uid for untrusted code)")]
    from ioi_box import _native, ownership
    from ioi_box.isolation import PlainIsolation, detect

    iso, note = detect()
    out.append(Finding("namespaces", not isinstance(iso, PlainIsolation),
                       f"{note}: no network, private /proc, read-only system paths, fresh /box and /tmp"
                       if not isinstance(iso, PlainIsolation) else
                       f"{note}; falling back to rlimits only (no file system or network isolation)"))
    cg = _native.cgroup_setup(ownership.owner(ownership.default_base()).cgroup_name)
    if cg.get("version"):
        ctrl = [c for c in ("memory", "cpu", "pids") if cg.get(c)]
        out.append(Finding("cgroups", True, f"v{cg['version']} with {', '.join(ctrl) or 'no controllers'}"))
        out.append(Finding("memory accounting", bool(cg.get("memory")),
                           "whole process tree, peak from the cgroup, OOM kills reported as MLE"
                           if cg.get("memory") else "per process (RLIMIT_AS), peak from ru_maxrss"))
        out.append(Finding("CPU accounting", bool(cg.get("cpu")),
                           "whole process tree from the cgroup, polled every 5 ms"
                           if cg.get("cpu") else "per process from rusage"))
        out.append(Finding("process limit", bool(cg.get("pids")),
                           "pids.max on the tree" if cg.get("pids") else "RLIMIT_NPROC only"))
    else:
        out.append(Finding("cgroups", False, f"unavailable ({cg.get('reason', 'unknown')}): memory limit is "
                           "RLIMIT_AS per process, CPU time from rusage, MLE inferred"))
    for tool, pkg in (("g++", "g++"), ("bwrap", "bubblewrap")):
        path = shutil.which(tool)
        out.append(Finding(tool, path is not None, path or f"missing (Debian: apt-get install {pkg})"))
    py = Path(PYTHON)
    out.append(Finding("python3 for submissions", py.exists(),
                       str(py) if py.exists() else f"{py} missing (Debian: apt-get install python3)"))
    return out


def ray_findings(address: str | None, box: str) -> list[Finding]:
    """The Ray backend: each live node's box, as a judge actor pinned there describes its isolation."""
    from ..backends.ray import node_report

    findings = []
    for row in node_report(address, box):
        where = f"ray node {row.get('host') or row.get('address')} ({row['node'][:8]})"
        if row.get("error"):
            findings.append(Finding(where, False, row["error"]))
            continue
        cg = row["cgroups"]
        ctrl = ", ".join(c for c in ("memory", "cpu", "pids") if cg.get(c)) or "none"
        cgroups = f"cgroups v{cg['version']} ({ctrl})" if cg.get("version") else "no cgroups: rlimits"
        tools = ", ".join(sorted(row["tools"])) or "no compilers"
        findings.append(Finding(where, row["isolation"] in ("zygote", "bwrap") and bool(cg.get("memory")),
                                f"{box} box: {row['note']}; {cgroups}; {tools}"))
    return findings


def docker_findings() -> list[Finding]:
    """The Docker backend: the engine, the judge image, and what a judge container says about itself."""
    from ..backends.docker import DockerBackend
    from ..backends.docker_engine import DEFAULT_IMAGE, engine_info
    from ..backends.image import check_image
    from ..errors import DockerError

    try:
        info = engine_info()
    except DockerError as exc:
        return [Finding("docker engine", False, str(exc))]
    out = [Finding("docker engine", True, f"{info.get('ServerVersion')}, cgroup v{info.get('CgroupVersion')} "
                                          f"({info.get('CgroupDriver')} driver)")]
    try:
        check_image(DEFAULT_IMAGE)
        box = DockerBackend().open(1)
    except DockerError as exc:
        return [*out, Finding("judge image", False, str(exc))]
    try:
        cg = box.info.cgroups
        out.append(Finding("judge container", box.info.isolation in ("zygote", "bwrap"), box.isolation_note))
        out.append(Finding("per-run cgroups in the container", bool(cg.get("memory") and cg.get("cpu")),
                           "whole-tree CPU time and memory, as locally" if cg.get("memory") and cg.get("cpu")
                           else f"unavailable ({cg.get('reason', '')}): rlimits only, verdicts may differ"))
    finally:
        box.close()
    return out


def measure_overhead(runs: int = 20) -> tuple[float, float]:
    """Mean wall time of /usr/bin/true bare and through the sandbox, in ms."""
    from ioi_box import _native
    from ioi_box.executor import Executor
    from ioi_box.protocol import Batch, Limits, Proc, RunJob

    t0 = time.perf_counter()
    for _ in range(runs):
        _native.run([{"argv": ["/usr/bin/true"], "env": [], "use_cgroup": False}])
    bare = (time.perf_counter() - t0) / runs * 1000
    with Executor(workers=1) as ex:
        job = Batch(jobs=[RunJob(procs=[Proc(argv=["/usr/bin/true"], limits=Limits(cpu_s=1, wall_s=3,
                                                                                    memory_bytes=256 << 20))])])
        ex.execute(job)
        t0 = time.perf_counter()
        for _ in range(runs):
            ex.execute(job)
        boxed = (time.perf_counter() - t0) / runs * 1000
    return bare, boxed


def doctor(
    overhead: Annotated[bool, typer.Option("--overhead", help="also measure the sandbox overhead")] = False,
    adversarial: Annotated[bool, typer.Option(
        "--adversarial", help="also judge the adversarial suite (hostile programs) and check the host held; "
                              "exit 1 if any case failed")] = False,
    backend: BackendOpt = "local",
    ray_address: RayAddressOpt = None,
    ray_box: RayBoxOpt = "local",
) -> None:
    """Show which isolation and accounting mechanisms this machine gives, and how precise they are."""
    from rich.markup import escape

    from ..tables import Col, print_fitted

    findings = diagnose()
    if backend == "docker":
        findings += docker_findings()
    if backend == "ray":
        try:
            findings += ray_findings(ray_address, ray_box)  # connects this process: the suite below reuses it
        except IoiEvalError as exc:
            fail(str(exc))
    print_fitted(out, [Col("check"), Col("status"), Col("detail")],
                 [[escape(f.what), "[green]ok[/green]" if f.ok else "[yellow]degraded[/yellow]", escape(f.detail)]
                  for f in findings], title="ioi-eval doctor")
    if overhead:
        bare, boxed = measure_overhead()
        out.print(f"sandbox overhead: {boxed - bare:.1f} ms per run (bare {bare:.1f} ms, sandboxed {boxed:.1f} ms)")
    if adversarial:
        from ..adversarial import CaseResult, results_table, run_suite, summary_line
        from ..adversarial.suite import cases_from_env

        def progress(r: CaseResult) -> None:
            status = "[green]held[/green]" if r.held else "[red]FAILED[/red]"
            err.print(f"  {escape(r.name)}: {status} ({r.verdict.value if r.verdict else '-'}, {r.seconds:.1f} s)")

        notes: list[str] = []
        try:
            cases = cases_from_env()  # all, or $IOI_EVAL_ADVERSARIAL_CASES
            where = f"{backend} backend" + (f", {ray_box} boxes" if backend == "ray" else "")
            err.print(f"adversarial suite: {len(cases)} cases on the {where}")
            results = run_suite(backend, cases=cases, on_result=progress, notes=notes,
                                backend_options=backend_options(backend, ray_address, ray_box))
        except (IoiEvalError, ValueError) as exc:
            fail(str(exc))
        out.print(results_table(results, title=f"adversarial suite ({where})"))
        for note in notes:
            out.print(f"[yellow]note:[/yellow] {escape(note)}")
        out.print(summary_line(results))
        if not all(r.held for r in results):
            raise typer.Exit(1)
