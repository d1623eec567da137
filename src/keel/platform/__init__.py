"""Shared kernel: configuration, database, event log, errors, observability."""
