"""Operations: metrics, systemd notify, the pending report and the data directory."""
