"""Benchmarks: every one prints a same-run comparison (sendguard vs stock Presidio, on vs off)."""
