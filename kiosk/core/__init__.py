"""The kiosk's pure rules and vocabularies: money, events, the session table, the view model.

No I/O here: no asyncio, sqlite3, httpx, Kivy or device library (an import-linter contract
checks)."""
