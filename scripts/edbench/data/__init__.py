"""The data: where each data set comes from, how its files are checked, and the arrays a task reads."""
