"""``python -m ioi_eval.cli``."""

from .main import main

main()
