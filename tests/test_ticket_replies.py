"""Replies worded before their ticket exists: the transaction only puts in the number and
the pseudonym, and nothing a citizen typed can take their place."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.intake.ticket_replies import TicketReplies
from conversations.messages import Option, Outbound
from conversations.ports import TicketRef

TICKET = TicketRef(id=41, number="GRT-2026-00042", pseudonym="7F3A")


def confirmation_and_notice(story: str) -> Callable[[TicketRef], list[Outbound]]:
    def make(ticket: TicketRef) -> list[Outbound]:
        return [
            Outbound("telegram", "citizen", f"Laporan {ticket.number} diterima.", locale="id"),
            Outbound(
                "whatsapp",
                "officer",
                f"Laporan baru {ticket.number}\nPelapor #{ticket.pseudonym}\n{story}\n"
                f"/status {ticket.number} proses",
                locale="id",
            ),
        ]

    return make


def test_the_number_and_pseudonym_are_put_in_every_reply() -> None:
    replies = TicketReplies.word(confirmation_and_notice("uang palsu di pasar"))(TICKET)
    assert [r.text for r in replies] == [
        "Laporan GRT-2026-00042 diterima.",
        "Laporan baru GRT-2026-00042\nPelapor #7F3A\nuang palsu di pasar\n"
        "/status GRT-2026-00042 proses",
    ]
    assert [(r.channel, r.chat_id, r.locale) for r in replies] == [
        ("telegram", "citizen", "id"),
        ("whatsapp", "officer", "id"),
    ]


def test_one_wording_serves_any_ticket() -> None:
    worded = TicketReplies.word(confirmation_and_notice("motor hilang"))
    other = TicketRef(id=7, number="GRT-2027-00001", pseudonym="0A1B2C3D")
    assert "GRT-2026-00042" in worded(TICKET)[0].text
    assert worded(other)[1].text.startswith("Laporan baru GRT-2027-00001\nPelapor #0A1B2C3D")


@given(st.text())
def test_what_a_citizen_typed_stays_as_typed(story: str) -> None:
    [_, notice] = TicketReplies.word(confirmation_and_notice(story))(TICKET)
    assert notice.text == (
        f"Laporan baru GRT-2026-00042\nPelapor #7F3A\n{story}\n/status GRT-2026-00042 proses"
    )


def test_a_number_outside_the_text_is_refused_when_worded() -> None:
    def with_button(ticket: TicketRef) -> list[Outbound]:
        return [
            Outbound(
                "telegram",
                "citizen",
                "Laporan diterima.",
                options=(Option(f"status:{ticket.number}", "Cek status"),),
            )
        ]

    with pytest.raises(ValueError, match="only be shown in a text"):
        TicketReplies.word(with_button)
