"""The officers' interface: working tickets with chat commands.

Every command checks authorization: an officer acts on the tickets of their unit (the
satuan or the Polsek); the Kapolres and admins on every ticket. The reporter is told of every
change in their own language and is reached only through the bot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from conversations import blocked
from conversations.categories import Categories
from conversations.desk import texts as officer_text
from conversations.desk.routing import FALLBACK_UNIT, normalise_unit, route
from conversations.domain import PromptKind, TicketStatus
from conversations.formatting import format_moment
from conversations.guard import Block
from conversations.i18n import _, current_locale, ngettext, use_locale
from conversations.intake import prompts
from conversations.messages import (
    ChatKey,
    Inbound,
    Media,
    Option,
    Outbound,
    Purpose,
    Template,
)
from conversations.ports import (
    Assign,
    BlockReporter,
    Changes,
    Officer,
    Recategorise,
    Relocate,
    SetPrompt,
    StatusChange,
    Store,
    Strike,
    TicketDetail,
    TicketNote,
)
from conversations.text import normalise
from conversations.understanding.places import Gazetteer

PRANK = frozenset({"iseng", "prank", "palsu", "bohong", "hoax", "hoaks"})
PAGE_SIZE = 10
MAX_RELAY = 2000
MAP_DAYS = (7, 30)  # what /peta offers; the first is the default
STATUS_ALIASES: dict[str, TicketStatus] = {
    "diverifikasi": TicketStatus.VERIFIED,
    "verifikasi": TicketStatus.VERIFIED,
    "verif": TicketStatus.VERIFIED,
    "cek": TicketStatus.VERIFIED,
    "dicek": TicketStatus.VERIFIED,
    "valid": TicketStatus.VERIFIED,
    "verified": TicketStatus.VERIFIED,
    "diproses": TicketStatus.IN_PROGRESS,
    "proses": TicketStatus.IN_PROGRESS,
    "tangani": TicketStatus.IN_PROGRESS,
    "ditangani": TicketStatus.IN_PROGRESS,
    "process": TicketStatus.IN_PROGRESS,
    "progress": TicketStatus.IN_PROGRESS,
    "selesai": TicketStatus.RESOLVED,
    "beres": TicketStatus.RESOLVED,
    "tuntas": TicketStatus.RESOLVED,
    "done": TicketStatus.RESOLVED,
    "resolved": TicketStatus.RESOLVED,
    "tutup": TicketStatus.RESOLVED,
    "ditolak": TicketStatus.REJECTED,
    "tolak": TicketStatus.REJECTED,
    "reject": TicketStatus.REJECTED,
    "rejected": TicketStatus.REJECTED,
    "invalid": TicketStatus.REJECTED,
}
# /daftar also lists the reports nobody has touched yet
LISTED_STATUSES = {**STATUS_ALIASES, "baru": TicketStatus.NEW}
COMMANDS = {
    "status": "status",
    "cek": "status",
    "tugaskan": "tugaskan",
    "assign": "tugaskan",
    "balas": "balas",
    "reply": "balas",
    "daftar": "daftar",
    "list": "daftar",
    "bukti": "bukti",
    "evidence": "bukti",
    "kategori": "kategori",
    "category": "kategori",
    "lokasi": "lokasi",
    "tempat": "lokasi",
    "place": "lokasi",
    "digest": "digest",
    "peta": "peta",
    "map": "peta",
    "bantuan": "bantuan",
    "help": "bantuan",
    "start": "bantuan",
}
_COMMAND = re.compile(r"^\s*/?([A-Za-z]+)(?:@\w+)?(?:\s+(.*))?$", re.DOTALL)
_NUMBER = re.compile(r"^\s*([A-Za-z]{2,6}[-\s]?\d{4}[-\s]?\d{1,5})\b\s*(.*)$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DeskSettings:
    tz: ZoneInfo
    ticket_prefix: str = "GRT"
    prank_strikes: int = 3
    block_for: timedelta = timedelta(days=30)


class DigestSource(Protocol):
    async def render(self, now: datetime, locale: str, to: ChatKey) -> list[Outbound]:
        """The digest for the period ending ``now``, addressed to ``to``: its text and its
        chart (as :class:`~conversations.messages.Media`)."""
        ...

    async def render_map(
        self, now: datetime, days: int, locale: str, to: ChatKey
    ) -> list[Outbound]:
        """The map of the reports of the ``days`` days ending ``now``, addressed to ``to``."""
        ...


class EvidenceSource(Protocol):
    async def files(self, ticket_id: int) -> list[Media]:
        """The ticket's evidence as officers may receive it (photos without metadata)."""
        ...


# Commands whose first argument is a report number.
NUMBERED = frozenset({"status", "tugaskan", "balas", "bukti", "kategori", "lokasi"})


def is_staff_command(text: str, *, drafting: bool) -> bool:
    """Whether a registered officer means ``text`` as a staff command. Always, when it is one
    and no citizen draft of theirs is open; with a draft open (they are writing a report as a
    citizen), a word without ``/`` counts only when it cannot be the report's words: a number
    command naming a report number, or another command word alone."""
    parsed = parse(text)
    if parsed is None:
        return False
    if not drafting or text.lstrip().startswith("/"):
        return True
    name, args = parsed
    if name in NUMBERED:
        return split_number(args)[0] is not None
    return not args


def parse(text: str) -> tuple[str, str] | None:
    """``/status GRT-2026-00001 proses ok`` -> ("status", "GRT-2026-00001 proses ok"); the
    same words work without ``/`` (WhatsApp)."""
    match = _COMMAND.match(text)
    if match is None:
        return None
    name = COMMANDS.get(match[1].lower())
    return None if name is None else (name, (match[2] or "").strip())


def split_number(args: str) -> tuple[str | None, str]:
    match = _NUMBER.match(args)
    if match is None:
        return None, args
    raw = re.sub(r"[-\s]", "", match[1].upper())
    letters = re.match(r"[A-Z]+", raw)
    assert letters is not None
    prefix, digits = letters.group(), raw[letters.end() :]
    number = f"{prefix}-{digits[:4]}-{int(digits[4:]):05d}"
    return number, match[2].strip()


class OfficerDesk:
    def __init__(
        self,
        *,
        store: Store,
        categories: Categories,
        gazetteer: Gazetteer,
        settings: DeskSettings,
        digest: DigestSource | None = None,
        evidence: EvidenceSource | None = None,
    ) -> None:
        self.digest = digest
        self.evidence = evidence
        self.store = store
        self.categories = categories
        self.gazetteer = gazetteer
        self.settings = settings

    async def on_inbound(self, officer: Officer, msg: Inbound, now: datetime) -> Changes:
        changes = Changes(key=msg.key, inbound_id=msg.message_id)
        work = _Work(officer, msg, changes, now)
        command = parse(msg.text) if msg.text else None
        if command is None:
            work.say(_("Unknown command. Type /bantuan for the officer commands."))
            return changes
        name, args = command
        handler = {
            "status": self._status,
            "tugaskan": self._assign,
            "balas": self._relay,
            "daftar": self._list,
            "bukti": self._evidence,
            "kategori": self._recategorise,
            "lokasi": self._relocate,
            "digest": self._digest,
            "peta": self._map,
            "bantuan": self._help,
        }[name]
        await handler(work, args)
        return changes

    # --- commands ------------------------------------------------------------------------

    async def _help(self, work: _Work, _args: str) -> None:
        lines = [
            _("Officer commands:"),
            _("/status NUMBER - the details of a report"),
            _(
                "/status NUMBER STATUS [note] - change its status (verifikasi, proses, selesai, "
                "tolak)"
            ),
            _("/tugaskan NUMBER UNIT - hand it to another unit"),
            _("/balas NUMBER message - write to the reporter through the bot"),
            _("/daftar [status|unit|terlambat] [page] - the open reports"),
            _("/bukti NUMBER - the evidence files"),
            _("/kategori NUMBER CODE - correct the topic (an example the bot learns from)"),
            _("/lokasi NUMBER PLACE - correct the kecamatan or desa"),
        ]
        if work.officer.role.sees_every_unit:
            lines.append(_("/digest - the summary of the last day"))
            lines.append(_("/peta [7|30] - the map of the reports of the last 7 or 30 days"))
        lines.append(_("/mulai - write a report as a citizen"))
        work.say("\n".join(lines))

    async def _ticket(self, work: _Work, number: str | None) -> TicketDetail | None:
        """The ticket named, if this officer may work it; otherwise say why and None."""
        if number is None:
            work.say(_("Write the report number, e.g. /status GRT-2026-00001"))
            return None
        ticket = await self.store.ticket_detail(number)
        if ticket is None or not work.officer.covers(ticket.unit, ticket.polsek):
            work.say(
                _("Report %(number)s was not found among the reports of your unit.")
                % {"number": number}
            )
            return None
        return ticket

    async def _status(self, work: _Work, args: str) -> None:
        number, rest = split_number(args)
        ticket = await self._ticket(work, number)
        if ticket is None:
            return
        if not rest:
            work.say(
                officer_text.ticket_details(
                    ticket, self.categories, self.gazetteer, self.settings.tz
                )
            )
            return
        word, _sep, note = rest.partition(" ")
        target = STATUS_ALIASES.get(normalise(word))
        if target is None:
            work.say(
                _("Unknown status %(word)s. Use: verifikasi, proses, selesai or tolak.")
                % {"word": word[:30]}
            )
            return
        reason = note.strip()[:1000] or None
        if not ticket.is_open:
            work.say(
                _("Report %(number)s is already closed (%(status)s).")
                % {"number": ticket.number, "status": prompts.status_label(ticket.status)}
            )
            return
        if target is not TicketStatus.REJECTED and target.step <= ticket.status.step:
            work.say(
                _("Report %(number)s is already %(status)s.")
                % {"number": ticket.number, "status": prompts.status_label(ticket.status)}
            )
            return
        first_word = (normalise(reason or "").split() or [""])[0]  # a note of "!!!" has none
        prank = target is TicketStatus.REJECTED and first_word in PRANK
        work.changes.ops.append(
            StatusChange(ticket.id, ticket.status, target, work.officer.actor, reason)
        )
        work.say(
            _("Report %(number)s is now %(status)s.")
            % {"number": ticket.number, "status": prompts.status_label(target)}
        )
        self._tell_reporter_status(work, ticket, target, reason)
        if prank:
            await self._strike(work, ticket)

    async def _strike(self, work: _Work, ticket: TicketDetail) -> None:
        """A prank counts against the reporter; at the limit every identity of theirs is
        blocked, and they are told why and until when. One officer alone never blocks: the
        strikes must come from two different staff, or the Kapolres or an admin gives one."""
        limits = self.settings
        strikers = await self.store.strikers(ticket.reporter_id)
        strikes = sum(strikers.values()) + 1
        work.changes.ops.append(Strike(ticket.reporter_id, ticket.id, work.officer.actor))
        who = officer_text.reporter(ticket.reporter_pseudonym, ticket.reporter_masked)
        second_look = work.officer.role.sees_every_unit or bool(
            set(strikers) - {work.officer.actor}
        )
        if strikes < limits.prank_strikes or not second_look:
            work.say(
                _("Strike %(n)d of %(limit)d recorded for %(who)s.")
                % {"n": strikes, "limit": limits.prank_strikes, "who": who}
            )
            if strikes >= limits.prank_strikes:
                work.say(
                    _(
                        "Not blocked: a block needs prank strikes from two different officers, "
                        "or one from the Kapolres or an admin."
                    )
                )
            return
        until = work.now + limits.block_for
        work.changes.ops.append(
            BlockReporter(ticket.reporter_id, until, "prank", work.officer.actor)
        )
        work.say(
            _("%(who)s is blocked until %(until)s after %(n)d prank reports.")
            % {"who": who, "until": format_moment(until, limits.tz), "n": strikes}
        )
        with use_locale(ticket.locale):
            reason = blocked.block_reason(Block(until, "prank"))
            work.reporter(ticket, prompts.blocked_notice(until, limits.tz, reason), [])

    def _tell_reporter_status(
        self, work: _Work, ticket: TicketDetail, status: TicketStatus, note: str | None
    ) -> None:
        if not ticket.reporter_chat:  # the reporter asked to be forgotten
            return
        with use_locale(ticket.locale):
            lines = [
                _("Update on your report %(number)s: %(status)s.")
                % {"number": ticket.number, "status": prompts.status_label(status)}
            ]
            if note:
                lines.append(_("Officer's note: %(note)s") % {"note": note})
            options: list[Option] = []
            label = prompts.status_label(status)
            template = Template(Purpose.STATUS, (ticket.number, label, note or "-"), ticket.number)
            if status is TicketStatus.RESOLVED:
                lines.append(_("Has your problem been handled?"))
                options = [
                    Option("closing:yes", _("Yes, handled")),
                    Option("closing:no", _("Not yet")),
                ]
                template = Template(Purpose.CLOSING, (ticket.number, note or "-"), ticket.number)
                work.changes.ops.append(
                    SetPrompt(_reporter_key(ticket), PromptKind.CLOSING, ticket.id)
                )
            work.reporter(ticket, "\n".join(lines), options, template)

    async def _assign(self, work: _Work, args: str) -> None:
        number, rest = split_number(args)
        ticket = await self._ticket(work, number)
        if ticket is None:
            return
        unit = normalise_unit(rest) if rest else None
        if unit is None:
            work.say(
                _("Unknown unit %(unit)s. Examples: SATRESKRIM, SATLANTAS, POLSEK-CIBATU.")
                % {"unit": rest[:40] or "-"}
            )
            return
        if not ticket.is_open:
            work.say(
                _("Report %(number)s is already closed (%(status)s).")
                % {"number": ticket.number, "status": prompts.status_label(ticket.status)}
            )
            return
        if unit == ticket.unit:
            work.say(
                _("Report %(number)s is already with %(unit)s.")
                % {"number": ticket.number, "unit": unit}
            )
            return
        work.changes.ops.append(Assign(ticket.id, ticket.unit, unit, work.officer.actor))
        work.say(
            _("Report %(number)s handed to %(unit)s.") % {"number": ticket.number, "unit": unit}
        )
        for other in await self.store.officers(units=(unit,)):
            if other.id == work.officer.id:
                continue
            moved = replace(ticket, unit=unit)
            with use_locale(None):
                text = _("Report handed to your unit (%(unit)s) by %(who)s.") % {
                    "unit": unit,
                    "who": work.officer.name,
                }
                notice = officer_text.new_ticket_notice(
                    moved, self.categories, self.gazetteer, self.settings.tz
                )
                work.to(other, f"{text}\n{notice}")

    async def _recategorise(self, work: _Work, args: str) -> None:
        number, rest = split_number(args)
        ticket = await self._ticket(work, number)
        if ticket is None:
            return
        wanted = rest.strip().lower().replace("-", "_")
        category = self.categories.get(wanted) if wanted else None
        if category is None and rest.strip():
            match = self.categories.match_answer(rest)
            category = self.categories.get(match.code) if match is not None else None
        if category is None:
            codes = ", ".join(c.code for c in self.categories.all)
            work.say(
                _("Unknown topic %(topic)s. The codes: %(codes)s.")
                % {"topic": rest.strip()[:40] or "-", "codes": codes}
            )
            return
        label = category.label(current_locale())
        if category.code == ticket.category:
            work.say(
                _("Report %(number)s already has the topic %(topic)s.")
                % {"number": ticket.number, "topic": label}
            )
            return
        work.changes.ops.append(
            Recategorise(ticket.id, ticket.category, category.code, work.officer.actor)
        )
        lines = [
            _("Topic of %(number)s corrected to %(topic)s.")
            % {"number": ticket.number, "topic": label}
        ]
        if category.unit not in (ticket.unit, ticket.polsek):
            lines.append(
                _("Its usual unit is %(unit)s: /tugaskan %(number)s %(unit)s hands it over.")
                % {"unit": category.unit, "number": ticket.number}
            )
        work.say("\n".join(lines))

    async def _relocate(self, work: _Work, args: str) -> None:
        number, rest = split_number(args)
        ticket = await self._ticket(work, number)
        if ticket is None:
            return
        typed = rest.strip()
        match = self.gazetteer.match(typed) if typed else None
        if match is not None and match.ambiguous:
            names = ", ".join(
                prompts.place_label(self.gazetteer, d.kecamatan_code, d.code)
                for d in match.ambiguous
            )
            work.say(
                _("%(place)s is in several kecamatan: %(names)s. Add the kecamatan.")
                % {"place": typed[:60], "names": names}
            )
            return
        if match is None or match.kecamatan is None:
            work.say(
                _(
                    "Write a kecamatan or desa of Garut after the number, e.g. /lokasi "
                    "%(number)s Cibatu"
                )
                % {"number": ticket.number}
            )
            return
        kecamatan = match.kecamatan.code
        desa = None if match.desa is None else match.desa.code
        label = prompts.place_label(self.gazetteer, kecamatan, desa)
        if (kecamatan, desa) == (ticket.kecamatan_code, ticket.desa_code) or (
            desa is None and kecamatan == ticket.kecamatan_code
        ):
            work.say(
                _("Report %(number)s is already in %(place)s.")
                % {"number": ticket.number, "place": label}
            )
            return
        polsek = route(ticket.category, kecamatan).polsek
        work.changes.ops.append(
            Relocate(ticket.id, ticket.kecamatan_code, kecamatan, desa, polsek, work.officer.actor)
        )
        lines = [
            _("Place of %(number)s corrected to %(place)s.")
            % {"number": ticket.number, "place": label}
        ]
        if polsek != ticket.polsek:
            lines.append(_("Now also for %(unit)s.") % {"unit": polsek or FALLBACK_UNIT})
        work.say("\n".join(lines))

    async def _relay(self, work: _Work, args: str) -> None:
        number, message = split_number(args)
        ticket = await self._ticket(work, number)
        if ticket is None:
            return
        message = message.strip()
        if not ticket.reporter_chat:
            work.say(
                _(
                    "The reporter of %(number)s asked for their data to be deleted: they can "
                    "no longer be reached through this report."
                )
                % {"number": ticket.number}
            )
            return
        if not message:
            work.say(
                _(
                    "Write the message after the number, e.g. /balas %(number)s Mohon "
                    "kirim foto lokasinya."
                )
                % {"number": ticket.number}
            )
            return
        shortened = len(message) > MAX_RELAY
        message = message[:MAX_RELAY]
        failed = Outbound(
            work.officer.channel,
            work.officer.external_id,
            _(
                "Your message about %(number)s could not be delivered to the reporter: they "
                "blocked the bot or their chat no longer exists."
            )
            % {"number": ticket.number},
            locale=current_locale(),
        )
        with use_locale(ticket.locale):
            text = _(
                "Message from the officer about your report %(number)s:\n%(message)s\n\n"
                "Reply here; your answer goes to the officer."
            ) % {"number": ticket.number, "message": message}
            template = Template(Purpose.RELAY, (ticket.number, message), ticket.number)
            work.reporter(ticket, text, [], template, on_failure=failed)
        work.changes.ops += [
            TicketNote(ticket.id, work.officer.actor, "relay_out", message, first_response=True),
            SetPrompt(_reporter_key(ticket), PromptKind.RELAY, ticket.id, work.officer.id),
        ]
        lines = [
            _("Sent to %(who)s.")
            % {"who": officer_text.reporter(ticket.reporter_pseudonym, ticket.reporter_masked)}
        ]
        if shortened:
            lines.append(_("(Shortened to its first %(n)d characters.)") % {"n": MAX_RELAY})
        work.say("\n".join(lines))

    async def _list(self, work: _Work, args: str) -> None:
        words = normalise(args).split()
        page = 1
        status: TicketStatus | None = None
        unit: str | None = None
        overdue = False
        for word in words:
            if word.isdigit():
                page = max(1, min(int(word), 10_000))
            elif word in ("terlambat", "overdue", "telat"):
                overdue = True
            elif word in LISTED_STATUSES:
                status = LISTED_STATUSES[word]
            elif normalise_unit(word) is not None:
                unit = normalise_unit(word)
            else:
                work.say(_("Use /daftar [status|unit|terlambat] [page], e.g. /daftar proses 2"))
                return
        units: tuple[str, ...] | None
        if work.officer.role.sees_every_unit:
            units = (unit,) if unit else None
        else:
            own = work.officer.unit or ""
            if unit is not None and unit != own:
                work.say(_("You can list the reports of your own unit only."))
                return
            units = (own,)
        tickets = await self.store.ticket_list(
            units=units,
            status=status,
            overdue_at=work.now if overdue else None,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE + 1,
        )
        if not tickets:
            work.say(_("No reports on this page."))
            return
        lines = [_("Reports (page %(page)d):") % {"page": page}]
        for ticket in tickets[:PAGE_SIZE]:
            late = ticket.first_response_at is None and ticket.due_at < work.now and ticket.is_open
            lines.append(officer_text.list_line(ticket, self.categories, self.gazetteer, late))
        if len(tickets) > PAGE_SIZE:
            lines.append(
                _("More: /daftar %(args)s")
                % {"args": " ".join([*(w for w in words if not w.isdigit()), str(page + 1)])}
            )
        work.say("\n".join(lines))

    async def _evidence(self, work: _Work, args: str) -> None:
        number, _rest = split_number(args)
        ticket = await self._ticket(work, number)
        if ticket is None:
            return
        files = await self.evidence.files(ticket.id) if self.evidence is not None else []
        if not files:
            work.say(_("Report %(number)s has no evidence files.") % {"number": ticket.number})
            return
        work.say(
            ngettext(
                "Report %(number)s: %(n)d evidence file follows.",
                "Report %(number)s: %(n)d evidence files follow.",
                len(files),
            )
            % {"number": ticket.number, "n": len(files)}
        )
        for index, media in enumerate(files, 1):
            caption = f"{ticket.number} — {index}/{len(files)}"
            work.changes.replies.append(
                Outbound(
                    work.msg.channel,
                    work.msg.chat_id,
                    caption,
                    media=replace(media, caption=caption),
                    locale=current_locale(),
                )
            )

    def _digest_for(self, work: _Work, refusal: str) -> DigestSource | None:
        """The digest's source, for the Kapolres and admins; otherwise say why and None."""
        if not work.officer.role.sees_every_unit:
            work.say(refusal)
            return None
        if self.digest is None:
            work.say(_("The digest is not available on this installation."))
        return self.digest

    async def _digest(self, work: _Work, _args: str) -> None:
        digest = self._digest_for(work, _("Only the Kapolres and admins can ask for the digest."))
        if digest is not None:
            work.changes.replies += await digest.render(work.now, current_locale(), work.msg.key)

    async def _map(self, work: _Work, args: str) -> None:
        digest = self._digest_for(work, _("Only the Kapolres and admins can ask for the map."))
        if digest is None:
            return
        word = args.strip().split()[0] if args.strip() else str(MAP_DAYS[0])
        days = int(word) if word.isdigit() and int(word) in MAP_DAYS else None
        if days is None:
            work.say(_("Use /peta 7 or /peta 30 (the days the map covers)."))
            return
        work.changes.replies += await digest.render_map(
            work.now, days, current_locale(), work.msg.key
        )


@dataclass(slots=True)
class _Work:
    officer: Officer
    msg: Inbound
    changes: Changes
    now: datetime

    def say(self, text: str) -> None:
        self.changes.replies.append(
            Outbound(self.msg.channel, self.msg.chat_id, text, locale=current_locale())
        )

    def to(self, officer: Officer, text: str) -> None:
        self.changes.replies.append(
            Outbound(officer.channel, officer.external_id, text, locale=current_locale())
        )

    def reporter(
        self,
        ticket: TicketDetail,
        text: str,
        options: list[Option],
        template: Template | None = None,
        on_failure: Outbound | None = None,
    ) -> None:
        if not ticket.reporter_chat:  # the reporter asked to be forgotten
            return
        self.changes.replies.append(
            Outbound(
                ticket.reporter_channel,
                ticket.reporter_chat,
                text,
                tuple(options),
                locale=current_locale(),
                template=template,
                on_failure=on_failure,
            )
        )


def _reporter_key(ticket: TicketDetail) -> ChatKey:
    return ChatKey(ticket.reporter_channel, ticket.reporter_chat)
