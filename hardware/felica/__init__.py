"""FeliCa card reader on nfcpy (``reader``) and a udp card emulator for tests and the demo
(``emulator``). Import the submodules: importing this package does not load nfcpy."""
