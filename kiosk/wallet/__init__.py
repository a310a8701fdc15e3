"""The wallet (Pokepay Partner API) client and its data types; imports nothing else of the kiosk.

The local sandbox with the same contract is a simulator: ``kiosk.sim.sandbox``."""
