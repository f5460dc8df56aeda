"""Scoring: CMS score types and the IOI multi-submission rule."""

from .score_types import SCORE_TYPES, ScoreType, get_score_type
from .submissions import best_of_submissions

__all__ = ["SCORE_TYPES", "ScoreType", "best_of_submissions", "get_score_type"]
