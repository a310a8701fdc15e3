"""Device drivers behind small interfaces, and their simulators. Never imports the engine."""
