"""Drivers registered by VIM type name; never an if/elif over VIM types."""

from __future__ import annotations

from collections.abc import Callable

from nubo.model.errors import BadRequest, Conflict
from nubo.vim.port import VimConfig, VimDriver

DriverFactory = Callable[[VimConfig], VimDriver]


class DriverRegistry:
    """Maps a VIM type name (``docker``, ``fake``...) to the factory of its driver."""

    def __init__(self) -> None:
        self._factories: dict[str, DriverFactory] = {}

    def register(self, vim_type: str, factory: DriverFactory) -> None:
        if vim_type in self._factories:
            raise Conflict(f"a driver for VIM type {vim_type!r} is already registered")
        self._factories[vim_type] = factory

    def types(self) -> list[str]:
        return sorted(self._factories)

    def create(self, config: VimConfig) -> VimDriver:
        try:
            factory = self._factories[config.type]
        except KeyError:
            raise BadRequest(
                f"unknown VIM type {config.type!r}; known types: {', '.join(self.types())}",
                field="type",
            ) from None
        return factory(config)
