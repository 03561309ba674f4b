"""The Telegram calls whose failure harms nothing, run in the background: answering a button
press, editing an old keyboard away, the one notice to a group.

They are not in the outbox (nothing a citizen must receive depends on them): each is tried a
few times, paced like any send, and given up quietly. :meth:`Chores.drain` lets them finish
(briefly) when the channel stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram import error as tg

from channels.base import Transient
from channels.pacing import Pacer
from channels.telegram.outbound import retry_seconds

__all__ = ["Chores"]

log = logging.getLogger(__name__)

_REMEMBERED_GROUPS = 10_000
BUSY = 0.5  # share of the overall limit in use above which keyboards are not edited away


class Chores:
    def __init__(self, bot: Callable[[], Bot], pacer: Pacer) -> None:
        self._bot = bot
        self._pacer = pacer
        self._tasks: set[asyncio.Task[None]] = set()
        self._noticed: OrderedDict[int, None] = OrderedDict()

    def answer(self, query_id: str, text: str | None = None) -> None:
        """Answer a callback query (stops the button's spinner; ``text`` shows as a toast)."""
        self._spawn(
            "answerCallbackQuery",
            lambda: self._bot().answer_callback_query(query_id, text=text),
            attempts=1,
            pace=None,
        )

    def retire(self, chat_id: str, message_id: int, text: str | None = None) -> None:
        """Edit the keyboard away from ``message_id``; with ``text``, the message's text
        becomes ``text`` (the question with the choice under it). Left out while the bot is
        busy (more than half of Telegram's overall limit in use, or the chat with any of its
        short burst used): the replies come first, and a press on a keyboard left behind is
        answered by the keyboard ledger."""
        # ... nor while the chat has used any of its burst: an edit never delays a reply
        if self._pacer.load() > BUSY or not self._pacer.chat_idle(chat_id):
            log.debug("telegram: keyboard left in place while busy")
            return

        def edit() -> Awaitable[object]:
            bot = self._bot()
            if text is not None:
                return bot.edit_message_text(text, chat_id=int(chat_id), message_id=message_id)
            return bot.edit_message_reply_markup(chat_id=int(chat_id), message_id=message_id)

        self._spawn("keyboard removal", edit, pace=chat_id)  # counted per chat, as Telegram does

    def notice_group(self, chat_id: int, text: str) -> None:
        """Send ``text`` to a group, once per group (as long as the process runs)."""
        if chat_id in self._noticed:
            return
        self._noticed[chat_id] = None
        while len(self._noticed) > _REMEMBERED_GROUPS:
            self._noticed.popitem(last=False)
        self._spawn(
            "group notice", lambda: self._bot().send_message(chat_id, text), pace=str(chat_id)
        )

    async def drain(self, within: float) -> None:
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(list(self._tasks), timeout=within)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def _spawn(
        self,
        what: str,
        call: Callable[[], Awaitable[object]],
        *,
        attempts: int = 3,
        pace: str | None,
    ) -> None:
        task = asyncio.ensure_future(self._quietly(what, call, attempts, pace))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _quietly(
        self,
        what: str,
        call: Callable[[], Awaitable[object]],
        attempts: int,
        pace: str | None,
    ) -> None:
        """``pace``: the chat to pace for, "" for the global limit only, None for none."""
        for attempt in range(1, attempts + 1):
            try:
                if pace is not None:
                    await self._pacer.wait(pace or None)
                await call()
                return
            except tg.RetryAfter as exc:
                if attempt < attempts:
                    await asyncio.sleep(retry_seconds(exc))
            except (tg.BadRequest, tg.Forbidden, Transient) as exc:
                log.debug("telegram: %s skipped: %s", what, exc)
                return
            except tg.TelegramError as exc:
                if attempt < attempts:
                    await asyncio.sleep(attempt)
                else:
                    log.debug("telegram: %s failed: %s", what, exc)
