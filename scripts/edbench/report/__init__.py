"""Reporting: run results read into tidy tables, the figures drawn from them, and each seed article's
claim set beside ours. Nothing here is imported by a training job."""
