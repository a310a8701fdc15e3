"""The UI process's memory on a machine that runs for months: glibc's heap and software GL.

Measured with ``python -m bench.ui_soak`` (docs/platform.md has the figures):

- glibc raises its mmap threshold each time a large block is freed, so the label textures a
  screen builds and drops end up in the main heap, whose free pages are never handed back.
  A fixed threshold keeps large blocks in their own mappings, and a trim once the kiosk is back
  on the attract screen returns the heap's free pages. The garbage collection done there too
  keeps full collections out of the next session (card → account p99 ~200 → ~110 ms; p50
  ~5 ms slower: the next session maps its memory again).
- Mesa's software rasterizer (llvmpipe: this CI machine, a Pi without its GPU driver) keeps
  buffers per rendering thread; the kiosk's small, mostly still screens draw as fast on the
  main thread alone. A GPU driver ignores the setting.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import logging
import os

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter (malloc.h)
MMAP_THRESHOLD = 64 * 1024


@functools.cache
def _glibc() -> ctypes.CDLL | None:
    """The C library the process runs on, found once (no ``find_library``: it runs ldconfig,
    and the trim runs after every session)."""
    try:
        libc = ctypes.CDLL(None)  # the symbols already loaded into this process
        libc.mallopt  # noqa: B018 - glibc only (musl has neither call)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def tune_process() -> None:
    """Before the window opens: a fixed mmap threshold, llvmpipe on one thread (unless set)."""
    os.environ.setdefault("LP_NUM_THREADS", "0")
    libc = _glibc()
    if libc is None or not libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD):
        log.info("glibc's mallopt is not available: the heap keeps its defaults")


def trim_heap() -> None:
    """Once nobody waits (a few ms): collect the session's garbage, delete the GL objects it
    held now rather than on the next frame, and hand the heap's free pages back."""
    from kivy.graphics.context import get_context  # not at import: Kivy is configured first

    gc.collect()
    get_context().gl_dealloc()
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)
