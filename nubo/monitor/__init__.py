"""Monitoring: per-VNFC metrics sampled from the VIM, time series, KPIs."""
