"""How often Python's cyclic garbage collector runs in a nubo process.

nubo holds hundreds of thousands of long-lived objects with many live
services (records, the auto-scaler's tracks, caches), and its background
loops allocate in bursts: a monitoring round builds a sample per metric of
every running VNFC, tens of thousands at once, alive until they are written.
With the interpreter's default threshold (a young collection every 700
allocations), such a burst survives into the old generation and soon triggers
a full collection, which walks every live object: at 3000 live NSs this made
a monitoring round four to five times as expensive as the round's own work
(bench/idle.py). A young generation of ``YOUNG_THRESHOLD`` allocations lets a
round's objects die young; the older generations keep their default ratios,
so cycles are still collected, a little later.

Only the interpreter's default is replaced: a process that set its own
thresholds (an embedding application, a profiler) keeps them.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("nubo")

#: what CPython starts with
INTERPRETER_DEFAULT = (700, 10, 10)
#: the young generation's threshold nubo runs with
YOUNG_THRESHOLD = 20_000


def tune() -> tuple[int, int, int]:
    """Raise the young generation's threshold unless it was set already; the thresholds."""
    current = gc.get_threshold()
    if current == INTERPRETER_DEFAULT:
        gc.set_threshold(YOUNG_THRESHOLD, *INTERPRETER_DEFAULT[1:])
        log.debug("gc.thresholds young=%d", YOUNG_THRESHOLD)
    return gc.get_threshold()
