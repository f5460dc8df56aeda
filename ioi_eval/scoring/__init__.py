"""Run-level scoring: the 50-submission selection, a run's scores, Codeforces metrics and medals.

Per-submission score types (GroupMin, ...) live beside the judge, in :mod:`ioi_eval.judge.score_types`.
"""
