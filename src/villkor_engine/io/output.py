"""Moved to `villkor_engine.write.output`: writing sits above evaluation, reading (the rest of
`io`) below it, so they are separate packages (see write/__init__.py).

This name stays for existing imports. It is the same module object, not a copy, so
`monkeypatch.setattr` on either name patches what the functions use.
"""

import sys

from ..write import output as _output
from ..write.output import *  # noqa: F403  (the names, for type checkers)

sys.modules[__name__] = _output
