"""A local wallet sandbox: the Partner API contract on 127.0.0.1 over mutual TLS, in SQLite."""
