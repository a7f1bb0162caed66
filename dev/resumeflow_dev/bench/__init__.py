"""Benchmarks behind ``resumeflow bench``: projection throughput and lag, query latency."""
