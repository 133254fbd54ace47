"""Subscriptions and the delivery of notifications to their callback URIs (SOL005)."""
