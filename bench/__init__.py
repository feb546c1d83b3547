"""Benchmarks: each prints one JSON line of figures measured on this machine (`cdm bench …`)."""
