"""Exports of runs as datasets (``ioi-eval export``).

* :mod:`.cots` — rows in open-r1's codeforces-cots layout (plus our judge fields) and the filters;
* :mod:`.dataset` — writing them (``save_to_disk``, Parquet, a card) and pushing to the Hub;
* the ``export cots`` command is :mod:`ioi_eval.cli.export`.
"""
