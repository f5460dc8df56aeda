"""ioi-eval: judge code models on IOI-style problems exactly as the official CMS judge would."""

__version__ = "0.1.0"
