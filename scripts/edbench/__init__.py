"""edbench: a reproducible benchmark of neural-network learning rules."""
