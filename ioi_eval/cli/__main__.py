"""``python -m ioi_eval.cli``."""

from . import main

main()
