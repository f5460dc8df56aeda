"""The run folder contract: what a run folder holds and how it is read and written.

* :mod:`.folder` — :class:`RunFolder`, every path of a run folder and the "is this a run folder" check;
* :mod:`.store` — :class:`RunStore`, the run's SQLite store, returning typed records;
* :mod:`.config` — :class:`RunConfig`, what makes two runs "the same" for resuming.

Import from the modules (``from ioi_eval.record.folder import RunFolder``): :mod:`.folder` stays cheap
to import (the CLI's option help names its files), the store and config pull in pydantic models.
"""
