"""Shared test rigs and models (bench/ imports them too)."""
