"""The TimescaleDB test server: PGlite with TimescaleDB (bench/pglite.py, shared with `cdm bench storage`)."""

from bench.pglite import PgliteTimescale, install_packages, missing_tools

__all__ = ["PgliteTimescale", "install_packages", "missing_tools"]
