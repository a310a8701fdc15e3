"""FeliCa card reader on nfcpy (``reader``) and a udp card emulator for tests and the demo
(``sim``). Import the submodules: importing this package does not load nfcpy."""
