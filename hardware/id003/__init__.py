"""JCM ID-003 bill acceptor: framing, code tables, host protocol, serial driver, pty simulator."""
