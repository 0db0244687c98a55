"""Reporting: run results read into tidy tables, the figures drawn from them, each seed article's
claim set beside ours, and the README's Markdown tables. Nothing here is imported by a training job."""
