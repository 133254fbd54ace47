"""The fake VIM's knobs, from its registration: ``config.extra`` and the endpoint.

The registration API takes a name, a type and an endpoint but no free-form
settings, so a fake VIM registered through it (a benchmark giving it Docker's
call costs) carries its knobs in the endpoint: ``fake:?delay.start_server=0.3``.
"""

from __future__ import annotations

import urllib.parse

from nubo.vim.port import VimConfig

#: ``config.extra`` key prefix of a per-call delay: ``delay.start_server`` = "0.3"
DELAY_PREFIX = "delay."
#: an endpoint ``fake:?key=value&...`` carries knobs as query parameters: the only part
#: of a VIM registration the API lets a caller choose freely
ENDPOINT_SCHEME = "fake:"


def knobs(config: VimConfig) -> dict[str, str]:
    """The driver's knobs: the endpoint's query parameters, then ``config.extra`` (which wins)."""
    found: dict[str, str] = {}
    if config.endpoint.startswith(ENDPOINT_SCHEME):
        query = config.endpoint.removeprefix(ENDPOINT_SCHEME).lstrip("/").removeprefix("?")
        found.update(urllib.parse.parse_qsl(query, keep_blank_values=True, strict_parsing=False))
    return found | dict(config.extra)
