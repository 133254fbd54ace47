"""The in-memory ``fake`` VIM driver: a test seam, not part of the product.

Only the test entry point (``nubo.testing``) registers it; a production
orchestrator (``nubo serve``, ``nubo.app.build`` with its default registry)
does not know the VIM type ``fake``. Like every driver it is independent of
the other drivers (an import-linter contract).
"""

from nubo.vim.fake.driver import (
    DEFAULT_IMAGES,
    DEFAULT_MEMORY_LIMIT,
    FakeContainer,
    FakeExec,
    FakeLoad,
    FakeVimDriver,
    register,
)

__all__ = [
    "DEFAULT_IMAGES",
    "DEFAULT_MEMORY_LIMIT",
    "FakeContainer",
    "FakeExec",
    "FakeLoad",
    "FakeVimDriver",
    "register",
]
