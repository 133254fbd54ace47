"""The collector's young threshold is raised once, and a process's own choice kept."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from nubo import collector


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.set_threshold(*saved)


@pytest.mark.usefixtures("thresholds")
def test_the_interpreter_default_is_raised() -> None:
    gc.set_threshold(*collector.INTERPRETER_DEFAULT)
    assert collector.tune() == (collector.YOUNG_THRESHOLD, 10, 10)


@pytest.mark.usefixtures("thresholds")
def test_thresholds_a_process_set_itself_are_kept() -> None:
    gc.set_threshold(1234, 5, 6)
    assert collector.tune() == (1234, 5, 6)
