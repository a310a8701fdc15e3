"""The size of the display the kiosk is given, asked of SDL before Kivy opens its window.

Kivy opens its window at the configured size and only then makes it fullscreen. Where nothing
resizes the GL surface with the window (X11 with no window manager, as on Xvfb), the drawing
stays the first size and is cut off or shifted; opening the window at the display's own size
avoids that on every video driver (KMS/DRM, Wayland, X11).
"""

from __future__ import annotations

import ctypes
import logging
from pathlib import Path

log = logging.getLogger("paykiosk.ui")

SDL_INIT_VIDEO = 0x20


class _DisplayMode(ctypes.Structure):
    _fields_ = (
        ("format", ctypes.c_uint32),
        ("w", ctypes.c_int),
        ("h", ctypes.c_int),
        ("refresh_rate", ctypes.c_int),
        ("driverdata", ctypes.c_void_p),
    )


# The system's SDL2 by its soname, for the dynamic loader to find: ``ctypes.util.find_library``
# would run ldconfig (and gcc) at every start.
SYSTEM_SDL = "libSDL2-2.0.so.0"


def _sdl_library() -> str:
    """The SDL2 that Kivy's window uses (its wheel's copy, else the system's)."""
    import kivy

    bundled = sorted((Path(kivy.__file__).parent.parent / "Kivy.libs").glob("libSDL2-2*.so*"))
    return str(bundled[0]) if bundled else SYSTEM_SDL


def display_size() -> tuple[int, int] | None:
    """The first display's desktop size, or None when SDL cannot tell (then Kivy decides)."""
    path = _sdl_library()
    try:
        sdl = ctypes.CDLL(path)
    except OSError as error:
        log.info("cannot load SDL to ask the display size: %s", error)
        return None
    if sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
        return None
    try:
        mode = _DisplayMode()
        if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) != 0:
            return None
        return (mode.w, mode.h) if mode.w > 0 and mode.h > 0 else None
    finally:
        sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)
