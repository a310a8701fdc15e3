"""The kiosk's settings: the config file read, checked and given defaults in one place."""
