"""The operator's HTTP endpoint (``TAROS_HTTP=127.0.0.1:8080``; off when unset), on aiohttp.

- ``GET /healthz``: ``200`` only when the database answers, every channel is connected (and
  WhatsApp logged in) and no reply has waited in the outbox longer than
  ``TAROS_HEALTH_OUTBOX_SECONDS``; otherwise ``503``. Either way the body is JSON with the
  reasons, e.g. ``{"status": "unhealthy", "reasons": ["channel whatsapp: not connected"], ...}``.
- ``GET /metrics``: Prometheus text format (see :mod:`bot.ops.metrics`).

It listens where it is told (keep it on 127.0.0.1 or a private network: it needs no
authentication because it shows no personal data, only counts).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.ops.metrics import Metrics, Snapshot
from channels.base import Channel, HttpRoute

if TYPE_CHECKING:
    from bot.app import App

__all__ = ["HealthServer", "verdict"]

log = logging.getLogger(__name__)


def verdict(snapshot: Snapshot, outbox_limit: float) -> tuple[bool, dict[str, Any]]:
    """Healthy or not, and the JSON body that says why."""
    reasons: list[str] = []
    if not snapshot.database_ok:
        reasons.append(f"database: not answering ({snapshot.database_error})")
    for name, connected in sorted(snapshot.channels.items()):
        if not connected:
            reasons.append(f"channel {name}: not connected")
    if snapshot.whatsapp_logged_in is False and snapshot.whatsapp_state == "token_refused":
        reasons.append(
            "whatsapp: the Cloud API refuses the access token (put a new permanent token in"
            " TAROS_WHATSAPP_CLOUD_TOKEN and restart)"
        )
    elif snapshot.whatsapp_logged_in is False:
        state = f"{snapshot.whatsapp_state}; " if snapshot.whatsapp_state else ""
        reasons.append(f"whatsapp: not logged in ({state}see the log, then: taros whatsapp link)")
    if snapshot.database_ok and snapshot.outbox_oldest_age > outbox_limit:
        reasons.append(
            f"outbox: a reply has waited {snapshot.outbox_oldest_age:.0f} s"
            f" (limit {outbox_limit:.0f} s); {snapshot.outbox_pending} waiting"
        )
    body: dict[str, Any] = {
        "status": "unhealthy" if reasons else "ok",
        "reasons": reasons,
        "database": "ok" if snapshot.database_ok else "error",
        "channels": {
            name: "connected" if up else "disconnected"
            for name, up in sorted(snapshot.channels.items())
        },
    }
    if snapshot.whatsapp_logged_in is not None:
        body["whatsapp_logged_in"] = snapshot.whatsapp_logged_in
        if snapshot.whatsapp_state:
            body["whatsapp_state"] = snapshot.whatsapp_state
    if snapshot.database_ok:
        body["outbox"] = {
            "waiting": snapshot.outbox_pending,
            "oldest_age_seconds": round(snapshot.outbox_oldest_age, 1),
            "limit_seconds": outbox_limit,
        }
        body["tickets_overdue"] = snapshot.overdue
    return not reasons, body


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int

    @classmethod
    def parse(cls, listen: str) -> Address:
        host, _sep, port = listen.rpartition(":")
        return cls(host.strip("[]"), int(port))

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


Route = HttpRoute


def channel_routes(channels: Iterable[Channel]) -> list[Route]:
    """The HTTP routes the channels want served (a webhook)."""
    return [route for channel in channels for route in channel.http_routes()]


class HealthServer:
    def __init__(
        self,
        app: App,
        metrics: Metrics,
        *,
        outbox_limit: float,
        routes: Sequence[Route] = (),
    ) -> None:
        self.app = app
        self.routes = tuple(routes)
        self.metrics = metrics
        self.outbox_limit = outbox_limit
        self._runner: web.AppRunner | None = None
        self.address: Address | None = None
        self._reported: tuple[str, ...] = ()

    def web_app(self) -> web.Application:
        web_app = web.Application()
        web_app.router.add_get("/healthz", self._healthz)
        web_app.router.add_get("/metrics", self._metrics)
        for method, path, handler in self.routes:  # e.g. the Telegram webhook
            web_app.router.add_route(method, path, handler)
        return web_app

    async def start(self, listen: str) -> Address:
        """Listen on ``HOST:PORT`` (port 0: any free one); returns the bound address."""
        wanted = Address.parse(listen)
        runner = web.AppRunner(self.web_app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        site = web.TCPSite(runner, wanted.host, wanted.port, reuse_address=True)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        bound = runner.addresses
        port = bound[0][1] if bound else wanted.port
        self._runner = runner
        self.address = Address(wanted.host, int(port))
        log.info("http: /healthz and /metrics on %s", self.address)
        return self.address

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def check(self) -> tuple[bool, dict[str, Any]]:
        snapshot = await self.metrics.refresh(self.app)
        return verdict(snapshot, self.outbox_limit)

    async def _healthz(self, _request: web.Request) -> web.Response:
        healthy, body = await self.check()
        reasons = tuple(body["reasons"])
        if reasons != self._reported:  # logged when it changes, not at every probe
            self._reported = reasons
            if reasons:
                log.warning("health: unhealthy: %s", "; ".join(reasons))
            else:
                log.warning("health: ok again")
        return web.json_response(body, status=200 if healthy else 503)

    async def _metrics(self, _request: web.Request) -> web.Response:
        await self.metrics.refresh(self.app)
        response = web.Response(body=self.metrics.render())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response
