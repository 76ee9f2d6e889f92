"""arXiv sources: the polite HTTP session, the announcement feed and the query API.

HTTP lives here and nowhere else in arxivwatch.
"""

from arxivwatch.sources.api import ApiPage, ArxivAPI, ArxivQueryError, parse_api, window_query
from arxivwatch.sources.feed import FeedItem, FeedPage, FeedResult, feed_url, fetch_feed, parse_feed
from arxivwatch.sources.http import PoliteSession, RequestRecord, RetryableResponse, user_agent

__all__ = [
    "ApiPage", "ArxivAPI", "ArxivQueryError", "FeedItem", "FeedPage", "FeedResult",
    "PoliteSession", "RequestRecord", "RetryableResponse", "feed_url", "fetch_feed",
    "parse_api", "parse_feed", "user_agent", "window_query",
]
