"""The adversarial suite: hostile programs judged like submissions, and checks that the host held.

- :mod:`.cases`: the programs (:class:`Case`) and the verdicts a correct IOI judge must give them;
- :mod:`.suite`: :func:`run_suite` judges them on a backend and checks canaries, leftover processes,
  loopback listeners and the judge's health after each one;
- :mod:`.procs`: processes under a harness's sandbox uids (shared with the sandbox tests);
- :mod:`.package`: the a+b package every case is judged on.

``ioi-eval doctor --adversarial`` runs it; ``IOI_EVAL_ADVERSARIAL_CASES=a,b`` picks cases.
"""

from __future__ import annotations

from .cases import CASES, Case, get_cases
from .context import CheckContext, SuiteInfo
from .report import results_table, summary_line
from .suite import AdversarialSuite, CaseResult, backend_ready, run_suite

__all__ = ["CASES", "AdversarialSuite", "Case", "CaseResult", "CheckContext", "SuiteInfo",
           "backend_ready", "get_cases", "results_table", "run_suite", "summary_line"]
