"""The speed benchmark: each implementation timed against its baseline in one process
(``harness``), the rows it times (``catalog``, ``ed_catalog``) and the peers they run against
(``peers``, ``workloads``), and the machine's measured limits that bound each row (``machine``)."""
