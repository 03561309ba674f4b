"""An aiohttp application served on 127.0.0.1, on a free port, for the tests' fakes."""

from __future__ import annotations

from aiohttp import web


class LocalServer:
    """Serves ``app`` on 127.0.0.1 until :meth:`stop`; ``url`` is its root."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
