"""Wallet (Pokepay Partner API) client, and a local sandbox server with the same contract."""
