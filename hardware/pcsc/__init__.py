"""PC/SC FeliCa readers (the Sony RC-S300 and other CCID readers) through pcscd and pyscard."""

from __future__ import annotations


def pyscard_missing() -> str | None:
    """Why the readers' library (pyscard's ``smartcard`` module, the ``[pcsc]`` extra) cannot be
    loaded here, or None. Imported only when asked: a kiosk with an nfcpy reader never needs it."""
    try:
        from smartcard import scard  # noqa: F401  (what hardware.pcsc.reader uses)
    except ImportError as error:
        return str(error) or type(error).__name__
    return None
