"""The judge: languages, compiling, checkers, task types and the orchestration of a submission."""
