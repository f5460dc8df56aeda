"""Reports over runs: the leaderboard (terminal table, JSON, CSV, Markdown) and a static HTML site."""

from .build import build_leaderboard
from .model import Leaderboard

__all__ = ["Leaderboard", "build_leaderboard"]
