"""What the intake says: every question, its options and the fixed notices, translated.

Kept apart from the flow so the words can be read (and reviewed by a native speaker) in one
place. Every function returns text in the current user's locale (see ``i18n.use_locale``).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from conversations.categories import Categories
from conversations.domain import TicketStatus
from conversations.formatting import format_moment, format_span
from conversations.i18n import _, current_locale, ngettext, pgettext
from conversations.messages import Option
from conversations.state import Draft
from conversations.text import normalise
from conversations.understanding.places import Gazetteer

# Option ids: stable payloads, validated on return; never shown to the user.
MORE = "more"
BACK = "back"
YES = "yes"
NO = "no"
DONE = "done"
NONE = "none"
SKIP = "skip"
CANCEL = "cancel"
SUBMIT = "submit"
EDIT = "edit"
FIELD_PREFIX = "field:"
FIELDS = ("category", "location", "chronology", "evidence")


def greeting() -> str:
    return _(
        "Welcome to TAROS, the complaint line of the Garut Police Chief (Kapolres Garut).\n"
        "Your number is kept confidential and will not be shared.\n"
        "If this is an emergency, call 110 now.\n"
        "Please do not send prank or false reports."
    )


def urgent_advice() -> str:
    return _(
        "If someone is in danger right now, call 110 immediately (free, 24 hours). "
        "We will still take your report here and flag it as urgent."
    )


def language_question(language: str) -> tuple[str, list[Option]]:
    """Asked once, in that language, of a citizen who wrote in Sundanese or English."""
    if language == "en":
        question, yes = _("You wrote in English. Shall I answer in English?"), _("Yes, in English")
    else:
        question = _("You wrote in Sundanese. Shall I answer in Sundanese?")
        yes = _("Yes, in Sundanese")
    return question, [Option(language, yes), Option("id", _("Bahasa Indonesia"))]


def understood_line(
    draft: Draft, categories: Categories, gazetteer: Gazetteer, tz: ZoneInfo
) -> str:
    """What a one-shot message said, in one line: ``Laporan Uang palsu di Kec. Cibatu, ...``."""
    category = categories.get(draft.category or "") if "category" in draft.prefilled else None
    if category is not None:
        line = _("A report about %(topic)s") % {"topic": category.label(current_locale())}
    else:
        line = _("A report")
    if "location" in draft.prefilled:
        line += " " + _("at %(place)s") % {"place": location_summary(gazetteer, draft)}
    if "time" in draft.prefilled and draft.incident_time:
        line += ", " + incident_when(draft, tz)
    return line


def incident_when(draft: Draft, tz: ZoneInfo) -> str:
    assert draft.incident_time is not None
    start = datetime.fromisoformat(draft.incident_time)
    end = datetime.fromisoformat(draft.incident_time_end) if draft.incident_time_end else None
    return format_span(start, end, tz)


def help_text() -> str:
    return _(
        "How to report: answer the questions one by one: what happened, where, the story, "
        "and any photos or files as evidence. You can also tell everything in one message.\n"
        "Commands:\n"
        "/mulai - start a report\n"
        "/batal - cancel the report you are writing\n"
        "/status NUMBER - check your report, e.g. /status GRT-2026-00001\n"
        "/bahasa id|su|en - change the language\n"
        "/hapusdata - delete your data\n"
        "/bantuan - this help\n"
        "Emergency: call 110."
    )


def unsupported_input() -> str:
    return _(
        "Sorry, I cannot read that kind of message. I accept text, photos, videos, documents, "
        "voice notes and location pins."
    )


def category_question(categories: Categories) -> tuple[str, list[Option]]:
    locale = current_locale()
    options = [Option(c.code, c.label(locale)) for c in categories.short_menu]
    options.append(Option(MORE, _("Other topics…")))
    return _("What is your report about? Choose a number, or type it in your own words."), options


def category_more_question(categories: Categories) -> tuple[str, list[Option]]:
    locale = current_locale()
    options = [Option(c.code, c.label(locale)) for c in categories.rest]
    options.append(Option(BACK, _("Back to the main topics")))
    return _("Choose the topic that fits best:"), options


def location_question() -> str:
    return _(
        "Where did it happen? Send a location pin, or type the kecamatan or desa and an address "
        "or landmark (for example: Desa Sukamaju, Cilawu, near the mosque)."
    )


def chronology_question() -> str:
    return _(
        "Please tell us what happened: when, where exactly, who was involved and what you saw. "
        "Write as completely as you can."
    )


def evidence_question(max_items: int) -> tuple[str, list[Option]]:
    text = ngettext(
        "Do you have evidence? Send photos, videos, documents or voice notes (up to %(n)d file). "
        "Type 'selesai' when you are done, or 'tidak ada' if you have none.",
        "Do you have evidence? Send photos, videos, documents or voice notes (up to %(n)d files). "
        "Type 'selesai' when you are done, or 'tidak ada' if you have none.",
        max_items,
    ) % {"n": max_items}
    return text, [Option(DONE, _("Done")), Option(NONE, _("No evidence"))]


def more_evidence_question() -> tuple[str, list[Option]]:
    """After a file: more may come; 'selesai' ends the evidence."""
    return _("Send more files, or type 'selesai' when you are done."), [Option(DONE, _("Done"))]


def edit_question() -> tuple[str, list[Option]]:
    return _("Which part do you want to change?"), [
        Option(FIELD_PREFIX + "category", _("Topic")),
        Option(FIELD_PREFIX + "location", _("Place")),
        Option(FIELD_PREFIX + "chronology", _("What happened")),
        Option(FIELD_PREFIX + "evidence", _("Evidence")),
        Option(BACK, _("Back to the summary")),
    ]


def cancel_question() -> tuple[str, list[Option]]:
    return _("Cancel this report? What you have written so far will be deleted."), [
        Option(YES, _("Yes, cancel it")),
        Option(NO, _("No, continue")),
    ]


def erase_question(open_reports: list[str]) -> tuple[str, list[Option]]:
    lines = [
        _(
            "Delete your data? This deletes at once: your number and every link to your "
            "reports, the names, numbers and e-mail addresses you wrote in them, the evidence "
            "of your finished reports, and this conversation."
        )
    ]
    if open_reports:
        lines.append(
            _(
                "Your reports still in progress (%(numbers)s) stay with the police for the "
                "investigation: their topic, place, what happened (without your name and "
                "numbers) and the evidence you sent, until they are finished; then their "
                "evidence is deleted too. You will no longer receive news about them."
            )
            % {"numbers": ", ".join(open_reports)}
        )
    lines.append(_("The report numbers stay, without anything that identifies you."))
    return "\n\n".join(lines), [
        Option(YES, _("Yes, delete my data")),
        Option(NO, _("No, keep it")),
    ]


def erased() -> str:
    return _("Your data has been deleted. Type /mulai whenever you want to report again.")


def summary_options() -> list[Option]:
    return [
        Option(SUBMIT, _("Send the report")),
        Option(EDIT, _("Change something")),
        Option(CANCEL, _("Cancel the report")),
    ]


def place_label(gazetteer: Gazetteer, kecamatan_code: str | None, desa_code: str | None) -> str:
    """``Desa Sukamaju, Kec. Cilawu`` (``Kel.`` for a kelurahan)."""
    parts: list[str] = []
    desa = gazetteer.desa_by_code(desa_code) if desa_code else None
    if desa is not None:
        prefix = _("Kel.") if desa.kind == "kelurahan" else _("Desa")
        parts.append(f"{prefix} {desa.name}")
    kecamatan = gazetteer.kecamatan_by_code(kecamatan_code) if kecamatan_code else None
    if kecamatan is not None:
        parts.append(_("Kec. %(name)s") % {"name": kecamatan.name})
    return ", ".join(parts)


PLACE_WORDS = frozenset({"kec", "kecamatan", "desa", "ds", "kel", "kelurahan", "di", "daerah"})


def adds_to(place: str, address: str) -> bool:
    """Whether what the citizen typed says more than the place it was matched to
    ("Kadungora" adds nothing to "Kec. Kadungora"; "dekat pasar" does)."""
    said = set(normalise(address).split()) - PLACE_WORDS
    return bool(said - set(normalise(place).split()))


def place_text(
    gazetteer: Gazetteer,
    kecamatan_code: str | None,
    desa_code: str | None,
    address: str | None,
    outside_garut: bool,
) -> str | None:
    """The place of a report in one line: ``Desa X, Kec. Y — dekat pasar``; None if unknown."""
    place = place_label(gazetteer, kecamatan_code, desa_code)
    typed = (address or "").strip()
    if outside_garut:
        return _("outside Kabupaten Garut (%(where)s)") % {"where": typed or _("a shared pin")}
    if place and typed and adds_to(place, typed):
        return f"{place} — {typed}"
    return place or typed or None


def location_summary(gazetteer: Gazetteer, draft: Draft) -> str:
    text = place_text(
        gazetteer, draft.kecamatan_code, draft.desa_code, draft.address, draft.outside_garut
    )
    if text:
        return text
    if draft.lat is not None and draft.lon is not None:
        return _("location pin %(lat).5f, %(lon).5f") % {"lat": draft.lat, "lon": draft.lon}
    return _("not given")


def summary_text(draft: Draft, categories: Categories, gazetteer: Gazetteer, tz: ZoneInfo) -> str:
    category = categories.get(draft.category or "")
    chronology = (draft.chronology or "").strip()
    if len(chronology) > 500:
        chronology = chronology[:500].rstrip() + "…"
    count = len(draft.evidence)
    evidence = ngettext("%(n)d file", "%(n)d files", count) % {"n": count} if count else _("none")
    lines = [
        _("Summary of your report:"),
        "• "
        + _("Topic: %(topic)s") % {"topic": category.label(current_locale()) if category else "-"},
        "• " + _("Place: %(place)s") % {"place": location_summary(gazetteer, draft)},
    ]
    if draft.incident_time:
        lines.append("• " + _("When: %(when)s") % {"when": incident_when(draft, tz)})
    lines += [
        "• " + _("What happened: %(story)s") % {"story": chronology},
        "• " + _("Evidence: %(evidence)s") % {"evidence": evidence},
    ]
    if draft.urgent:
        lines.append("• " + _("Marked URGENT"))
    lines.append(_("Send this report?"))
    return "\n".join(lines)


def status_label(status: TicketStatus) -> str:
    labels = {
        TicketStatus.NEW: pgettext("ticket status", "new"),
        TicketStatus.VERIFIED: pgettext("ticket status", "verified"),
        TicketStatus.IN_PROGRESS: pgettext("ticket status", "in progress"),
        TicketStatus.RESOLVED: pgettext("ticket status", "resolved"),
        TicketStatus.REJECTED: pgettext("ticket status", "rejected"),
    }
    return labels[status]


def invalid_example(step_name: str) -> str:
    examples = {
        "category": _("For example, type 1 or 'uang palsu'."),
        "category_more": _("For example, type the number in front of a topic."),
        "location": _("For example: 'Cibatu', 'Desa Sukamaju, Cilawu' or 'Pasar Wanaraja'."),
        "chronology": _(
            "For example: 'This morning around 9 someone paid at my shop in Cibatu with a fake "
            "100,000 note.'"
        ),
        "evidence": _("Send a photo or file, or type 'selesai' or 'tidak ada'."),
    }
    return examples.get(step_name, _("Choose one of the numbers shown."))


def blocked_notice(until: datetime, tz: ZoneInfo, reason: str) -> str:
    return _(
        "Your number is blocked from sending reports until %(until)s. Reason: %(reason)s. "
        "/status, /hapusdata and /bantuan still work. In an emergency, call 110: a message "
        "about danger now still reaches the Kapolres."
    ) % {"until": format_moment(until, tz), "reason": reason}


def rate_limited() -> str:
    return _(
        "You are sending messages very fast. Please wait a minute; messages sent meanwhile are "
        "not read. In an emergency, call 110."
    )


def too_many_reports(limit: int) -> str:
    return ngettext(
        "You have already sent %(n)d report in the last 24 hours. Please wait before sending "
        "another; your draft is kept. In an emergency, call 110.",
        "You have already sent %(n)d reports in the last 24 hours. Please wait before sending "
        "another; your draft is kept. In an emergency, call 110.",
        limit,
    ) % {"n": limit}
