"""Simulators of what is outside the kiosk (the wallet sandbox and its config): never loaded
in the field."""
