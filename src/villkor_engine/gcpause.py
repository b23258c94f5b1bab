"""Pausing Python's cyclic garbage collector while results are built and written.

An evaluation makes millions of small objects (rows, steps, reads, output rows) that all live
until the output is written and form no cycles: reference counting frees whatever is dropped.
Each pass of the cyclic collector only walks them all again, and with the live set growing by
the recipient those passes took half of a run's time. Both the evaluator and the writers pause
it, so it lives here, below both (it is about memory, not about evaluation).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector off inside the block, and back as it was after (even on error).

    What the block made is then moved to the oldest generation at once (freeze, unfreeze: two
    list splices) instead of being walked by the next young collection: the objects live until
    the output is written, and a young collection over all of them cost as much as a tenth of
    the evaluation. They are still collected, in the next full collection. Skipped when
    someone else has frozen objects (their freeze is not ours to undo).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()
