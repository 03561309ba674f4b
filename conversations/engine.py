"""The conversation engine: one message at a time per chat, many chats at once.

Every message is handled in four moves: skip it if its ``(channel, message id)`` was handled
before; load the chat's conversation; let the dialogue compute the changes; commit them in one
transaction (state, ticket, replies in the outbox). Only then is the outbox dispatcher woken.
A crash before the commit loses nothing that was promised (the platform redelivers, and the
message is handled anew); a crash after it loses nothing either (the outbox is durable).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from conversations import blocked
from conversations.commands import parse_command
from conversations.desk.commands import OfficerDesk, is_staff_command
from conversations.guard import Block, BlockList, RateLimiter, Verdict
from conversations.i18n import _, current_locale, use_locale
from conversations.intake import prompts
from conversations.intake.dialogue import Intake
from conversations.messages import ChatKey, Inbound, Outbound
from conversations.ports import (
    BlockReporter,
    CommitOutcome,
    CommitResult,
    LoadedChat,
    Officer,
    Store,
    Timer,
)
from conversations.state import Conversation

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...


class Handled(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    STALE = "stale"
    FAILED = "failed"
    LIMITED = "limited"  # over the sender's rate limit: not read
    BLOCKED = "blocked"  # the sender is on the block list: not read


class StaleConversation(RuntimeError):
    """Raised by a store's ``apply`` when the conversation it was given was read before a
    write made elsewhere (another process): nothing was applied. The engine reads the
    conversation again and redoes the step, once."""


class FailureNotifier(Protocol):
    async def enqueue(self, outbounds: list[Outbound], now: datetime) -> list[int]: ...


_Item = Inbound | Timer


class Engine:
    def __init__(
        self,
        *,
        store: Store,
        intake: Intake,
        clock: Clock,
        on_outbox: Callable[[tuple[int, ...]], None] | None = None,
        on_replies: Callable[[tuple[Outbound, ...]], None] | None = None,
        notifier: FailureNotifier | None = None,
        desk: OfficerDesk | None = None,
        limiter: RateLimiter | None = None,
        blocks: BlockList | None = None,
    ) -> None:
        self.store = store
        self.intake = intake
        self.clock = clock
        # told of rows queued in the outbox (their ids) ...
        self.on_outbox = on_outbox
        # ... or, when set, of a message's committed replies themselves (the dispatcher
        # queues them without reading them back)
        self.on_replies = on_replies
        self.notifier = notifier
        self.desk = desk
        self.limiter = limiter
        self.blocks = blocks
        self._notices: set[asyncio.Task[None]] = set()
        self._queues: dict[ChatKey, deque[tuple[_Item, asyncio.Future[Handled]]]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self.processed = 0
        self.failed = 0
        # Told of every handled item and what became of it (metrics, the message log); it
        # must not raise or block. Set by the wiring (bot.ops.metrics.observe).
        self.observer: Callable[[_Item, Handled | CommitResult | None], None] | None = None

    # --- public --------------------------------------------------------------------------

    def submit(self, item: _Item) -> asyncio.Future[Handled]:
        """Queue a message (or a fired timer) behind the others of its chat."""
        future: asyncio.Future[Handled] = asyncio.get_running_loop().create_future()
        if isinstance(item, Inbound) and self.limiter is not None:
            verdict = self.limiter.check((item.channel, item.sender_id), self.clock.now())
            if verdict != Verdict.ALLOW:
                if verdict == Verdict.NOTICE:
                    self._notice(item, prompts.rate_limited)
                future.set_result(Handled.LIMITED)
                self._observe(item, Handled.LIMITED)
                return future
        key = item.key
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            queue.append((item, future))
            worker = asyncio.create_task(self._drain(key, queue), name=f"chat {key}")
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)
        else:
            queue.append((item, future))
        return future

    async def handle(self, item: _Item) -> Handled:
        """Handle ``item`` and return once its changes are committed."""
        return await self.submit(item)

    async def idle(self) -> None:
        """Wait until every queued message has been handled."""
        while self._workers or self._notices:
            await asyncio.gather(*self._workers, *self._notices, return_exceptions=True)

    @property
    def backlog(self) -> int:
        return sum(len(q) for q in self._queues.values())

    # --- per chat ------------------------------------------------------------------------

    async def _drain(
        self, key: ChatKey, queue: deque[tuple[_Item, asyncio.Future[Handled]]]
    ) -> None:
        try:
            while queue:
                item, future = queue[0]
                outcome = await self._process(item)
                queue.popleft()
                if not future.done():
                    future.set_result(outcome)
        finally:
            if self._queues.get(key) is queue:
                del self._queues[key]

    async def _process(self, item: _Item) -> Handled:
        try:
            try:
                result = await self._process_once(item)
            except StaleConversation:
                log.info(
                    "conversation changed elsewhere; reading it again",
                    extra={"chat": str(item.key)},
                )
                result = await self._process_once(item)
        except Exception:
            self.failed += 1
            log.exception(
                "handling failed; nothing was committed",
                extra={"chat": str(item.key), "item": _describe(item)},
            )
            self._observe(item, Handled.FAILED)
            if isinstance(item, Inbound):
                await self._apologise(item)
            return Handled.FAILED
        self.processed += 1
        self._observe(item, result)
        if isinstance(result, Handled):
            return result
        if result is None:
            return Handled.DUPLICATE
        if result.outcome == CommitOutcome.DUPLICATE:
            return Handled.DUPLICATE
        if result.outcome == CommitOutcome.STALE:
            return Handled.STALE
        if result.replies and self.on_replies is not None:
            self.on_replies(result.replies)
        elif result.outbox_ids and self.on_outbox is not None:
            self.on_outbox(result.outbox_ids)
        return Handled.APPLIED

    async def _process_once(self, item: _Item) -> CommitResult | Handled | None:
        if isinstance(item, Inbound):
            return await self._process_inbound(item)
        return await self._process_timer(item)

    def _observe(self, item: _Item, result: Handled | CommitResult | None) -> None:
        if self.observer is not None:
            try:
                self.observer(item, result)
            except Exception:
                log.exception("the engine's observer failed")

    async def _conversation(self, item: _Item) -> Conversation:
        conv = await self.store.load_conversation(item.key)
        if conv is not None:
            return conv
        locale = None
        if isinstance(item, Inbound):
            locale = await self.store.reporter_locale(item.channel, item.sender_id)
        return Conversation(key=item.key, locale=locale)

    async def _process_inbound(self, msg: Inbound) -> CommitResult | Handled | None:
        now = self.clock.now()
        block = None
        if self.blocks is not None:
            block = await self.blocks.get((msg.channel, msg.sender_id), now)
        if msg.attachments:
            # read together (one trip): a redelivered file is not downloaded again
            processed, chat = await asyncio.gather(
                self.store.is_processed(msg.channel, msg.message_id),
                self.store.load_chat(msg.key, msg.sender_id),
            )
            if processed:
                return None
        else:
            chat = await self.store.load_chat(msg.key, msg.sender_id)
        conv = chat.conversation
        if block is not None and not blocked.lets_through(conv, msg):
            return await self._blocked(msg, conv, block, now)
        officer = await self._staff(msg, chat)
        with use_locale(conv.locale):
            if officer is not None and self.desk is not None:
                changes = await self.desk.on_inbound(officer, msg, now)
            else:
                changes = await self.intake.on_inbound(conv, msg, now, pending=chat.prompts)
        result = await self.store.apply(changes, now)
        if self.blocks is not None and any(isinstance(op, BlockReporter) for op in changes.ops):
            self.blocks.invalidate()
        return result

    async def _blocked(
        self, msg: Inbound, conv: Conversation, block: Block, now: datetime
    ) -> CommitResult | Handled:
        """A blocked sender's message: an emergency is still answered and alerted; anything
        else is not read, and the sender is reminded (at most once a day) why."""
        with use_locale(conv.locale):
            changes = await blocked.emergency(self.store, self.intake.understander, msg, now)
        if changes is not None:
            return await self.store.apply(changes, now)
        assert self.blocks is not None
        if self.blocks.should_remind((msg.channel, msg.sender_id), now):
            tz = self.intake.settings.tz
            self._notice(
                msg,
                lambda: prompts.blocked_notice(block.until, tz, blocked.block_reason(block)),
            )
        return Handled.BLOCKED

    async def _staff(self, msg: Inbound, chat: LoadedChat) -> Officer | None:
        """The registered officer behind ``msg`` when it is staff work: a staff command
        (Telegram's ``/start`` opens the officer's help), also while the officer has a citizen
        draft open (the draft is kept); or anything but ``/mulai`` when no draft is open."""
        if self.desk is None:
            return None
        drafting = chat.conversation.draft is not None
        if not is_staff_command(msg.text or "", drafting=drafting) and (
            drafting or starts_report(msg)
        ):
            return None
        if chat.officer_read:
            return chat.officer
        return await self.store.officer(msg.channel, msg.sender_id)

    async def _process_timer(self, timer: Timer) -> CommitResult:
        now = self.clock.now()
        conv = await self._conversation(timer)
        with use_locale(conv.locale):
            changes = await self.intake.on_timer(conv, timer, now)
        return await self.store.apply(changes, now)

    def _notice(self, msg: Inbound, text: Callable[[], str]) -> None:
        """Tell the sender something outside the dialogue (rate limit, block), in the
        background: the caller does not wait for it."""
        task = asyncio.create_task(self._send_notice(msg, text))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def _apologise(self, msg: Inbound) -> None:
        await self._send_notice(
            msg,
            lambda: _("Sorry, something went wrong on our side. Please send your message again."),
        )

    async def _send_notice(self, msg: Inbound, text: Callable[[], str]) -> None:
        if self.notifier is None:
            return
        locale = await self._safe_locale(msg)
        with use_locale(locale):
            reply = Outbound(msg.channel, msg.chat_id, text(), locale=current_locale())
        try:
            ids = await self.notifier.enqueue([reply], self.clock.now())
        except Exception:
            log.exception("could not queue a notice", extra={"chat": str(msg.key)})
            return
        if self.on_outbox is not None:
            self.on_outbox(tuple(ids))

    async def _safe_locale(self, msg: Inbound) -> str | None:
        try:
            conv = await self.store.load_conversation(msg.key)
        except Exception:
            return None
        return conv.locale if conv is not None else None


def starts_report(msg: Inbound) -> bool:
    """An officer writing ``/mulai`` reports as a citizen."""
    command = parse_command(msg.text) if msg.text else None
    return command is not None and command.name == "mulai"


def _describe(item: _Item) -> str:
    if isinstance(item, Inbound):
        return f"message {item.message_id}"
    return f"timer {item.kind.value} #{item.id}"
