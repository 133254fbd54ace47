"""nubo's test seams, wired only by tests and by the test entry point.

A production orchestrator (``nubo serve``, ``nubo.app.build`` with its default
arguments, ``Settings.from_env``) knows only real VIM drivers and never kills
itself. Tests and benchmarks that need the in-memory ``fake`` VIM or crash
injection take them from here: ``registry_with_fake()`` and ``crash_hook()``
for an orchestrator built in process, ``python -m nubo.testing serve`` for one
that runs as its own process. No production module imports this package (an
import-linter contract); this package may import all of nubo.
"""

from nubo.testing.seams import (
    CRASH_AT_VARIABLE,
    crash_hook,
    crash_hook_from_env,
    registry_with_fake,
)

__all__ = ["CRASH_AT_VARIABLE", "crash_hook", "crash_hook_from_env", "registry_with_fake"]
