"""The CI gate (``ioi-eval ci``): a run's scores against a baseline, with Markdown and JUnit reports.

* :mod:`.baseline` — the versioned baseline file (read and written);
* :mod:`.compare` — the decision (per-problem drops, the floor, evaluation errors) and the exit status;
* :mod:`.report` — the Markdown summary (``$GITHUB_STEP_SUMMARY``) and the JUnit XML file;
* :mod:`.cli` — the command, which runs the evaluation through :func:`ioi_eval.run.cli_run.evaluate`.
"""
