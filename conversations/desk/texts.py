"""What officers and the Kapolres read: ticket notices, details and lists.

The reporter appears only as ``Pelapor #7F3A`` and a masked number; never a phone number,
a Telegram id or a name.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from conversations.categories import Categories
from conversations.formatting import format_moment
from conversations.i18n import _, current_locale, ngettext
from conversations.intake import prompts
from conversations.ports import TicketDetail
from conversations.privacy import for_staff, reporter_label
from conversations.understanding.places import Gazetteer

STORY_PREVIEW = 300


def reporter(pseudonym: str, masked: str) -> str:
    return _("Reporter %(who)s") % {"who": reporter_label(pseudonym, masked)}


def place_of(ticket: TicketDetail, gazetteer: Gazetteer) -> str:
    text = prompts.place_text(
        gazetteer, ticket.kecamatan_code, ticket.desa_code, ticket.address, ticket.outside_garut
    )
    return for_staff(text) if text else _("not given")


def _topic(code: str, categories: Categories) -> str:
    category = categories.get(code)
    return category.label(current_locale()) if category else code


def new_ticket_notice(
    ticket: TicketDetail, categories: Categories, gazetteer: Gazetteer, tz: ZoneInfo
) -> str:
    story = for_staff(ticket.chronology)
    if len(story) > STORY_PREVIEW:
        story = story[:STORY_PREVIEW].rstrip() + "…"
    head = _("New report %(number)s") % {"number": ticket.number}
    if ticket.urgent:
        head = _("URGENT: new report %(number)s") % {"number": ticket.number}
    lines = [
        head,
        _("Topic: %(topic)s") % {"topic": _topic(ticket.category, categories)},
        _("Place: %(place)s") % {"place": place_of(ticket, gazetteer)},
        reporter(ticket.reporter_pseudonym, ticket.reporter_masked),
        _("What happened: %(story)s") % {"story": story},
        ngettext("Evidence: %(n)d file", "Evidence: %(n)d files", ticket.evidence_count)
        % {"n": ticket.evidence_count},
        _("Respond by: %(when)s") % {"when": format_moment(ticket.due_at, tz)},
        _("Reply with /status %(number)s proses [note] or /balas %(number)s message")
        % {"number": ticket.number},
    ]
    return "\n".join(lines)


def ticket_details(
    ticket: TicketDetail, categories: Categories, gazetteer: Gazetteer, tz: ZoneInfo
) -> str:
    lines = [
        _("Report %(number)s") % {"number": ticket.number}
        + (" — " + _("URGENT") if ticket.urgent else ""),
        _("Status: %(status)s") % {"status": prompts.status_label(ticket.status)},
        _("Topic: %(topic)s") % {"topic": _topic(ticket.category, categories)},
        _("Unit: %(unit)s") % {"unit": ", ".join(u for u in (ticket.unit, ticket.polsek) if u)},
        _("Place: %(place)s") % {"place": place_of(ticket, gazetteer)},
    ]
    if ticket.lat is not None and ticket.lon is not None:
        lines.append(_("Pin: %(lat).5f, %(lon).5f") % {"lat": ticket.lat, "lon": ticket.lon})
    if ticket.incident_time is not None:
        lines.append(_("When: %(when)s") % {"when": format_moment(ticket.incident_time, tz)})
    lines += [
        reporter(ticket.reporter_pseudonym, ticket.reporter_masked),
        _("What happened: %(story)s") % {"story": for_staff(ticket.chronology)},
        ngettext("Evidence: %(n)d file", "Evidence: %(n)d files", ticket.evidence_count)
        % {"n": ticket.evidence_count},
        _("Received: %(when)s") % {"when": format_moment(ticket.created_at, tz)},
        _("Respond by: %(when)s") % {"when": format_moment(ticket.due_at, tz)},
        _("History:"),
    ]
    for event in ticket.events:
        what = event.kind
        if event.to_status:
            what = prompts.status_label(event.to_status)
        note = f" — {for_staff(event.note)}" if event.note else ""
        lines.append(f"• {format_moment(event.at, tz)}: {what}{note}")
    return "\n".join(lines)


def list_line(
    ticket: TicketDetail, categories: Categories, gazetteer: Gazetteer, overdue: bool
) -> str:
    flags = ""
    if ticket.urgent:
        flags += " ‼"
    if overdue:
        flags += " ⏰"
    place = prompts.place_label(gazetteer, ticket.kecamatan_code, None) or "-"
    return (
        f"• {ticket.number}{flags} [{prompts.status_label(ticket.status)}] "
        f"{_topic(ticket.category, categories)} — {place}"
    )
