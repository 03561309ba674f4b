"""Wiring: one place that builds the application from its settings, and tears it down."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from taros.bot.clock import Clock, SystemClock
from taros.bot.config import Settings
from taros.bot.database import Database
from taros.bot.dispatcher import Dispatcher
from taros.bot.evidence_files import EvidenceFiles
from taros.bot.media import MediaStore
from taros.bot.sla import SlaWatcher
from taros.bot.store import SqliteStore
from taros.bot.timers import TimerScheduler
from taros.channels.base import Channel
from taros.conversations.categories import Categories
from taros.conversations.engine import Engine
from taros.conversations.i18n import set_default_locale
from taros.conversations.intake import Intake, IntakeSettings
from taros.conversations.officer_desk import DeskSettings, OfficerDesk
from taros.conversations.places import Gazetteer
from taros.conversations.prefill import Understander

log = logging.getLogger(__name__)


@dataclass(slots=True)
class App:
    settings: Settings
    clock: Clock
    db: Database
    store: SqliteStore
    media: MediaStore
    engine: Engine
    dispatcher: Dispatcher
    timers: TimerScheduler
    sla: SlaWatcher
    channels: dict[str, Channel] = field(default_factory=dict)

    @classmethod
    async def open(
        cls,
        settings: Settings,
        *,
        clock: Clock | None = None,
        understander: Understander | None = None,
        poll_interval: float = 1.0,
    ) -> App:
        clock = clock or SystemClock()
        set_default_locale(settings.locale)
        db = await Database.open(settings.database_path)
        store = SqliteStore(db, ticket_prefix=settings.ticket_prefix, tz=settings.tz)
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
            ),
            understander=understander,
        )
        channels: dict[str, Channel] = {}
        dispatcher = Dispatcher(store, channels, clock, poll_interval=poll_interval)
        desk = OfficerDesk(
            store=store,
            categories=intake.categories,
            gazetteer=intake.gazetteer,
            settings=DeskSettings(tz=settings.tz, ticket_prefix=settings.ticket_prefix),
            evidence=EvidenceFiles(db, media, settings.data_dir / "officer-copies"),
        )
        engine = Engine(
            store=store,
            intake=intake,
            clock=clock,
            on_outbox=dispatcher.notify,
            notifier=store,
            desk=desk,
        )
        timers = TimerScheduler(store, engine, clock)
        sla = SlaWatcher(
            db,
            store,
            clock,
            sla_hours=settings.sla_hours,
            tz=settings.tz,
            on_outbox=dispatcher.notify,
        )
        return cls(settings, clock, db, store, media, engine, dispatcher, timers, sla, channels)

    def add_channel(self, channel: Channel) -> None:
        self.channels[channel.name] = channel

    async def start(self, *, timers: bool = True) -> None:
        """Start delivering and (optionally) firing timers, then open every channel."""
        await self.dispatcher.start()
        if timers:
            await self.timers.start()
            await self.sla.start()
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
        await self.engine.idle()
        await self.dispatcher.stop()
        await self.db.close()
