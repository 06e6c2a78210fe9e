"""Fault scenarios (filled in below)."""
