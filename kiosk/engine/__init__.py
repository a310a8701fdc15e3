"""The engine: one asyncio loop that owns the session, the journal and the wallet calls."""
