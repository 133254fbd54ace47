"""The catalogue: onboarded descriptors, validated before they are stored."""

from nubo.catalogue.nsd import NsdCatalogue, NsdParser

__all__ = ["NsdCatalogue", "NsdParser"]
