"""arXiv sources: the polite HTTP session, the announcement feed and the query API.

HTTP lives here and nowhere else in arxivwatch.
"""

from arxivwatch.sources.api import ArxivAPI, ArxivQueryError, parse_api, to_paper, window_query
from arxivwatch.sources.feed import FeedPage, FeedResult, feed_url, fetch_feed, parse_feed
from arxivwatch.sources.http import PoliteSession, RequestRecord, RetryableResponse, user_agent

__all__ = [
    "ArxivAPI", "ArxivQueryError", "FeedPage", "FeedResult", "PoliteSession",
    "RequestRecord", "RetryableResponse", "feed_url", "fetch_feed", "parse_api", "parse_feed",
    "to_paper", "user_agent", "window_query",
]
