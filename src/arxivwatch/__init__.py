"""arxivwatch: watches arXiv for papers that belong in a curated markdown catalog."""

__version__ = "0.1.0"
