"""The data: what each data set is (catalog), how its files are fetched (fetch, packaged), checked
(checksums) and cached (cache), the IDX format (idx), scikit-learn's Digits (digits), the arrays
file a task loads (arrays), and which of its images a task draws (splits)."""
