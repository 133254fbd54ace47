"""Typed identifiers, so that an NSR id is never passed where a VNFR id is expected."""

from __future__ import annotations

import uuid
from typing import NewType

NsdId = NewType("NsdId", str)
NsrId = NewType("NsrId", str)
VnfrId = NewType("VnfrId", str)
VduId = NewType("VduId", str)
VnfcId = NewType("VnfcId", str)
VlrId = NewType("VlrId", str)
OpOccId = NewType("OpOccId", str)
VimId = NewType("VimId", str)


def new_id() -> str:
    """A fresh random identifier (UUID4, canonical text form)."""
    return str(uuid.uuid4())
