"""Kivy screens and .kv files: presentation and member intents only (the UI comes next)."""
