"""edbench: a reproducible benchmark of neural-network learning rules."""
import os

# NumPy asks the kernel for 2 MB pages for every array of 4 MB or more. On the virtual machines this
# benchmark is built and tested on, a fresh 256 MB array took 4.2 s that way against 0.12 s in 4 kB
# pages, and the training epochs ran no faster with them (docs/speed.md). NumPy reads the variable
# once, as it is imported: set here, before any of the package's imports, it reaches this process
# and every job started from it (Snakemake imports the package to plan). A value the user set stays.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
