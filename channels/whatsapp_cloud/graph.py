"""The Graph API behind ``TAROS_WHATSAPP_CLOUD_API_URL``, for pywa.

pywa builds every Graph API URL on ``https://graph.facebook.com/v<version>`` and takes no
other root; what it does take is the ``httpx.AsyncClient`` it sends with (its documented
``session`` parameter). The client made here has a transport (httpx's documented extension
point) that sends each call pywa addresses to ``graph.facebook.com`` to the configured root
instead (``{root}/v<version>/...``), so a self-hosted relay, or the fake Graph API of the
tests, stands in for Meta without touching pywa's insides.

Media downloads go to the URL the Graph API gave for the media id (on Meta's CDN, or on the
configured root), with the access token: the transport refuses every other host, so the
token is never sent where a crafted URL points.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

__all__ = ["DEFAULT_API", "GraphTransport", "graph_session"]

DEFAULT_API = "https://graph.facebook.com"
GRAPH_HOST = "graph.facebook.com"
# Where the Graph API's media URLs point (lookaside.fbsbx.com today).
MEDIA_DOMAINS = ("fbsbx.com", "facebook.com", "whatsapp.net", "fbcdn.net")


class GraphTransport(httpx.AsyncBaseTransport):
    """Routes Graph API calls to ``root`` and refuses hosts that are neither the root nor
    Meta's media hosts."""

    def __init__(self, root: str, inner: httpx.AsyncBaseTransport | None = None) -> None:
        parts = urlsplit(root.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an API root: {root!r}")
        self.root = httpx.URL(root.rstrip("/"))
        self._prefix = parts.path.rstrip("/")
        self._inner = inner or httpx.AsyncHTTPTransport(retries=1)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.host == GRAPH_HOST:
            request.url = url.copy_with(
                scheme=self.root.scheme,
                host=self.root.host,
                port=self.root.port,
                raw_path=(self._prefix + url.raw_path.decode("ascii")).encode("ascii"),
            )
            request.headers["Host"] = request.url.netloc.decode("ascii")
        elif not self._allowed(url):
            raise httpx.UnsupportedProtocol(
                f"refusing to send the WhatsApp token to {url.host!r} (not the Graph API)"
            )
        return await self._inner.handle_async_request(request)

    def _allowed(self, url: httpx.URL) -> bool:
        if (url.scheme, url.host, url.port) == (self.root.scheme, self.root.host, self.root.port):
            return True
        return url.scheme == "https" and any(
            url.host == domain or url.host.endswith("." + domain) for domain in MEDIA_DOMAINS
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def graph_session(root: str, *, timeout: float = 30.0) -> httpx.AsyncClient:
    """A new client for one pywa ``WhatsApp`` (pywa refuses to share one)."""
    return httpx.AsyncClient(
        transport=GraphTransport(root),
        timeout=httpx.Timeout(timeout, connect=10.0),
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
