"""Keel: a unified commerce backbone."""
