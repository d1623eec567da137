"""Benchmark workloads behind ``keel bench ...``."""
