"""Replies that name a ticket before it exists, worded before the transaction that creates it.

A report's confirmation and the officers' notices carry the ticket's number and the
reporter's pseudonym, which only the store's transaction knows; everything else in them (the
story masked for staff, the place, the dates in the reader's language) is known before. So
they are worded once, in the event loop, with a mark where each of the two goes, and the
transaction only puts the two values in: the single writer, which every message waits for,
does no wording (bench/README.md, issue 18).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace

from conversations.messages import Outbound
from conversations.ports import TicketRef


@dataclass(frozen=True, slots=True)
class TicketReplies:
    """What :attr:`~conversations.ports.Changes.replies_after_ticket` gives the store: called
    with the new ticket, it returns the replies with its number and pseudonym filled in."""

    replies: tuple[Outbound, ...]
    number_mark: str
    pseudonym_mark: str

    @classmethod
    def word(cls, make: Callable[[TicketRef], list[Outbound]]) -> TicketReplies:
        """Word ``make``'s replies now, for a ticket known later. ``make`` may show the
        ticket's number and pseudonym in the replies' text only (nothing else of the ticket is
        known yet); its ``id`` is 0."""
        token = secrets.token_hex(8)  # a mark nobody could have typed into a story
        number_mark, pseudonym_mark = f"\u27e6n{token}\u27e7", f"\u27e6p{token}\u27e7"
        replies = tuple(make(TicketRef(id=0, number=number_mark, pseudonym=pseudonym_mark)))
        for reply in replies:
            rest = repr(replace(reply, text=""))
            if number_mark in rest or pseudonym_mark in rest:
                raise ValueError("a ticket's number or pseudonym may only be shown in a text")
        return cls(replies, number_mark, pseudonym_mark)

    def __call__(self, ticket: TicketRef) -> list[Outbound]:
        return [
            replace(
                reply,
                text=reply.text.replace(self.number_mark, ticket.number).replace(
                    self.pseudonym_mark, ticket.pseudonym
                ),
            )
            for reply in self.replies
        ]
