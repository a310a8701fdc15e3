"""The ID-003 acceptor simulator (device model, pty server, console): never loaded in the field."""
