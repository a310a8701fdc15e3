"""A day in the co-op's time zone as epoch seconds (the daily close and the reconciliation both
count a day this way)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_bounds(day: date, zone: ZoneInfo) -> tuple[float, float]:
    """The day's first second and the next day's, as epoch seconds, in ``zone``."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.timestamp(), end.timestamp()
