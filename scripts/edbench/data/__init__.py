"""The data: what each data set is (catalog), how its files are fetched (fetch, packaged), checked
(checksums) and cached (cache), the IDX format (idx), and the arrays file a task loads (arrays)."""
