"""The CI gate (``ioi-eval ci``): a run's scores against a baseline, with Markdown and JUnit reports.

* :mod:`.baseline` — the versioned baseline file (read and written);
* :mod:`.compare` — the decision (per-problem drops, the floor, evaluation errors) and the exit status;
* :mod:`.report` — the Markdown summary (``$GITHUB_STEP_SUMMARY``) and the JUnit XML file;
* the command is :mod:`ioi_eval.cli.ci`, which runs the evaluation through :func:`ioi_eval.run.evaluate.evaluate`.
"""
