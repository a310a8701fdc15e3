"""nfcpy, imported without its probe for OpenSSL 1.0.

Importing ``nfc`` imports its LLCP module, which looks for ``libcrypto.so.1.0`` with
``ctypes.util.find_library`` (for LLCP's encryption; reading FeliCa cards never uses it). That
search runs ``ldconfig`` and ``gcc`` as child processes at every start of the kiosk and finds
nothing on Debian 12 (OpenSSL 3): a fork and exec of a compiler, on a Pi-class CPU, for a library
that is not there. Here that one name is answered "not found" while nfcpy is imported; every
other name, and every later search, is ``find_library``'s own. Import this module before the
first ``import nfc`` (each module that imports nfcpy does, above an ``isort: split``).
"""

from __future__ import annotations

import ctypes.util
import sys

LIBCRYPTO_1_0 = "crypto.so.1.0"  # the name nfc/llcp/sec.py asks for

if "nfc" not in sys.modules:
    _find_library = ctypes.util.find_library

    def _without_libcrypto_1_0(name: str) -> str | None:
        return None if name == LIBCRYPTO_1_0 else _find_library(name)

    ctypes.util.find_library = _without_libcrypto_1_0
    try:
        import nfc  # noqa: F401
    finally:
        ctypes.util.find_library = _find_library
