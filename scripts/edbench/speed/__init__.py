"""The speed benchmark: each implementation timed against its baseline in one process, against the
machine's measured limits."""
