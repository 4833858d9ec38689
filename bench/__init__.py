"""Benchmarks: run them by hand (`python bench/ledger.py`); CI does not."""
