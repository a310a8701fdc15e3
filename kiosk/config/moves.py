"""The ``[move]`` section: which マネー移動 directions the kiosk offers (``source->target``)."""

from __future__ import annotations

from typing import Any

from kiosk.config.settings import BUCKETS, ConfigError, MoveSection


def parse_move(data: Any) -> MoveSection:
    """``routes = ["base->cafeteria", "base->textbook"]`` (the default); ``[]`` offers none."""
    if data is None:
        return MoveSection()
    if not isinstance(data, dict):
        raise ConfigError("[move]: must be a table")
    unknown = sorted(set(data) - {"routes"})
    if unknown:
        raise ConfigError(f"[move] {unknown[0]}: unknown key")
    if "routes" not in data:
        return MoveSection()
    raw = data["routes"]
    if not isinstance(raw, list):
        raise ConfigError(f'[move] routes: must be a list like ["base->cafeteria"], got {raw!r}')
    routes: list[tuple[str, str]] = []
    for item in raw:
        route = _route(item)
        if route in routes:
            raise ConfigError(f"[move] routes: {item!r} is listed twice")
        routes.append(route)
    return MoveSection(tuple(routes))


def _route(item: object) -> tuple[str, str]:
    parts = [p.strip() for p in item.split("->")] if isinstance(item, str) else []
    if len(parts) != 2 or not all(p in BUCKETS for p in parts):
        raise ConfigError(
            f"[move] routes: {item!r} is not SOURCE->TARGET with each one of {', '.join(BUCKETS)}"
        )
    if parts[0] == parts[1]:
        raise ConfigError(f"[move] routes: {item!r} moves a money to itself")
    return parts[0], parts[1]
