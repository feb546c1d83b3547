"""Shared core of the county chronic-disease monitor: settings, domain types, payload schema, store access."""

__version__ = "0.1.0"
