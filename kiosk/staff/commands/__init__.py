"""`paykiosk staff …`: the staff functions from a shell."""
