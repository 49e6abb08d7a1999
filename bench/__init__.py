"""Benchmarks of the local cloud: run ``python -m bench.run`` (or ``python -m bench``)."""
