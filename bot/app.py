"""Wiring: one place that builds the application from its settings, and tears it down."""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.evidence.for_officers import EvidenceFiles
from bot.evidence.shredder import Shredder
from bot.evidence.store import MediaStore
from bot.jobs.digest import Digest, DigestScheduler
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.recap import Recaps, RecapScheduler
from bot.jobs.recap_numbers import RecapKind
from bot.jobs.retention import Retention
from bot.jobs.sla import SlaWatcher
from bot.jobs.slots import Mailer
from bot.jobs.timers import TimerScheduler
from bot.jobs.undelivered import Undelivered
from bot.ops.serving import claim_serving
from bot.storage.blocks import SqliteBlocks
from bot.storage.database import Database
from bot.storage.outbox import SqliteOutbox
from bot.storage.store import SqliteStore
from bot.storage.timers import SqliteTimers
from channels.base import Channel, ReportsDeliveries
from conversations.categories import Categories
from conversations.desk.commands import DeskSettings, OfficerDesk
from conversations.engine import Engine
from conversations.guard import BlockList, RateLimiter
from conversations.i18n import set_default_locale
from conversations.intake.base import IntakeSettings
from conversations.intake.dialogue import Intake
from conversations.intake.prefill import Understander
from conversations.understanding.places import Gazetteer
from conversations.understanding.understander import Understander as FreeTextUnderstander

log = logging.getLogger(__name__)

OFFICER_COPIES = "officer-copies"


class Default:
    """The real understanding of free text (pass ``None`` for none at all)."""


@dataclass(slots=True)
class App:
    settings: Settings
    clock: Clock
    db: Database
    store: SqliteStore
    outbox: SqliteOutbox
    media: MediaStore
    engine: Engine
    dispatcher: Dispatcher
    timers: TimerScheduler
    sla: SlaWatcher
    mailer: Mailer
    digest: Digest
    digests: DigestScheduler
    recaps: Recaps
    recap_schedulers: tuple[RecapScheduler, ...]
    retention: Retention
    undelivered: Undelivered
    channels: dict[str, Channel] = field(default_factory=dict)
    serving: list[int] = field(default_factory=list)  # held locks (bot.ops.serving)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        understander: Understander | type[Default] | None = Default,
        poll_interval: float = 1.0,
    ) -> App:
        clock = clock or SystemClock()
        set_default_locale(settings.locale)
        db = await Database.open(settings.database_path)
        shredder = Shredder(settings.media_dir, settings.data_dir / OFFICER_COPIES)
        store = SqliteStore(
            db,
            ticket_prefix=settings.ticket_prefix,
            tz=settings.tz,
            on_released=shredder.delete,
        )
        outbox = SqliteOutbox(db)
        media = MediaStore(settings.media_dir, settings.max_evidence_bytes)
        intake = Intake(
            store=store,
            media=media,
            categories=Categories.load(),
            gazetteer=Gazetteer.load(),
            settings=IntakeSettings(
                tz=settings.tz,
                sla_hours=settings.sla_hours,
                draft_reminder=settings.draft_reminder,
                draft_expiry=settings.draft_expiry,
                max_evidence_items=settings.max_evidence_items,
                max_evidence_bytes=settings.max_evidence_bytes,
                tickets_per_day=settings.tickets_per_day,
            ),
            understander=(
                FreeTextUnderstander(settings.tz)
                if isinstance(understander, type)
                else understander
            ),
        )
        channels: dict[str, Channel] = {}
        dispatcher = Dispatcher(outbox, channels, clock, poll_interval=poll_interval)
        mailer = Mailer(db, store)
        digest = Digest(
            db=db,
            categories=intake.categories,
            gazetteer=intake.gazetteer,
            tz=settings.tz,
            charts_dir=settings.data_dir / "charts",
        )
        desk = OfficerDesk(
            store=store,
            categories=intake.categories,
            gazetteer=intake.gazetteer,
            settings=DeskSettings(
                tz=settings.tz,
                ticket_prefix=settings.ticket_prefix,
                prank_strikes=settings.prank_strikes,
                block_for=timedelta(days=settings.block_days),
            ),
            evidence=EvidenceFiles(db, media, settings.data_dir / OFFICER_COPIES),
            digest=digest,
        )
        engine = Engine(
            store=store,
            intake=intake,
            clock=clock,
            on_outbox=dispatcher.notify,
            on_replies=dispatcher.take,
            notifier=outbox,
            desk=desk,
            limiter=RateLimiter(settings.messages_per_minute),
            blocks=BlockList(SqliteBlocks(db)),
        )
        timers = TimerScheduler(SqliteTimers(db), engine, clock)
        sla = SlaWatcher(
            db,
            clock,
            sla_hours=settings.sla_hours,
            tz=settings.tz,
            on_outbox=dispatcher.notify,
        )
        digests = DigestScheduler(
            digest,
            mailer,
            clock,
            times=settings.digest_at,
            locale=settings.locale,
            on_outbox=dispatcher.notify,
        )
        recaps = Recaps(
            db=db,
            categories=intake.categories,
            gazetteer=intake.gazetteer,
            tz=settings.tz,
            sla_hours=settings.sla_hours,
            folder=settings.data_dir / "recaps",
        )
        recap_schedulers = tuple(
            RecapScheduler(
                recaps,
                mailer,
                clock,
                kind=kind,
                at=min(settings.digest_at),
                locale=settings.locale,
                on_outbox=dispatcher.notify,
            )
            for kind in RecapKind
        )
        undelivered = Undelivered(
            db, outbox, store, clock, on_outbox=dispatcher.notify, locale=settings.locale
        )
        dispatcher.on_given_up = undelivered.given_up
        return cls(
            settings,
            clock,
            db,
            store,
            outbox,
            media,
            engine,
            dispatcher,
            timers,
            sla,
            mailer,
            digest,
            digests,
            recaps,
            recap_schedulers,
            Retention(
                db,
                shredder,
                clock,
                evidence_days=settings.evidence_retention_days,
                identity_days=settings.identity_retention_days,
            ),
            undelivered,
            channels,
        )

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel
        if isinstance(channel, ReportsDeliveries):  # the platform tells later what became
            channel.report_deliveries_to(self.undelivered)  # of a message

    async def start(self, *, timers: bool = True) -> None:
        """Start delivering, then open every channel. With ``timers`` this is the serving
        process: durable timers, SLA reminders and the daily digest run, and its channels are
        marked as served (:func:`served_elsewhere`)."""
        await self.dispatcher.start()
        if timers:  # the serving process (taros run, an interactive taros chat)
            self.serving = await asyncio.to_thread(
                claim_serving, self.settings.data_dir, list(self.channels.values())
            )
            await self.timers.start()
            await self.sla.start()
            await self.retention.start()
            await self.digests.start()
            for scheduler in self.recap_schedulers:
                await scheduler.start()
        for channel in self.channels.values():
            await channel.start(self.engine.handle)

    async def close(self) -> None:
        for channel in list(self.channels.values()):
            try:
                await channel.stop()
            except Exception:
                log.exception("channel %s did not stop cleanly", channel.name)
        await self.timers.stop()
        await self.sla.stop()
        await self.retention.stop()
        await self.digests.stop()
        for scheduler in self.recap_schedulers:
            await scheduler.stop()
        await self.engine.idle()
        await self.dispatcher.stop()
        for fd in self.serving:
            os.close(fd)  # releases the lock
        self.serving = []
        await self.db.close()
