"""Pay Spot kiosk engine."""

__version__ = "0.1.0"
