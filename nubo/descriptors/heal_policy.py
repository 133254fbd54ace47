"""The ``heal_policy`` VNFD extension: how nubo heals the VNFCs of a VNF."""

from __future__ import annotations

from collections.abc import Mapping

from nubo.model.descriptors import HealMode, HealPolicy
from nubo.model.errors import FieldProblem, InvalidDescriptor

DEFAULT_POLICY = HealPolicy()


def heal_policy_of(raw: object, path: str = "heal_policy") -> HealPolicy:
    """A policy from the VNFD extension ``{"mode", "max_attempts", "backoff"}``, all optional."""
    if not isinstance(raw, Mapping):
        raise InvalidDescriptor([FieldProblem(path, "must be an object")])
    problems: list[FieldProblem] = []
    unknown = sorted(set(raw) - {"mode", "max_attempts", "backoff"})
    problems += [FieldProblem(f"{path}.{key}", "unknown key") for key in unknown]
    mode = raw.get("mode", DEFAULT_POLICY.mode.value)
    if mode not in {m.value for m in HealMode}:
        modes = ", ".join(m.value for m in HealMode)
        problems.append(FieldProblem(f"{path}.mode", f"must be one of {modes}"))
    attempts = raw.get("max_attempts", DEFAULT_POLICY.max_attempts)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 1 <= attempts <= 100:
        problems.append(FieldProblem(f"{path}.max_attempts", "must be an integer in 1..100"))
    backoff = raw.get("backoff", DEFAULT_POLICY.backoff)
    if (
        isinstance(backoff, bool)
        or not isinstance(backoff, int | float)
        or not 0 <= backoff <= 3600
    ):
        problems.append(FieldProblem(f"{path}.backoff", "must be a number of seconds in 0..3600"))
    if problems:
        raise InvalidDescriptor(problems)
    return HealPolicy(mode=HealMode(mode), max_attempts=int(attempts), backoff=float(backoff))
