"""What a blocked sender can still do: a block stops reports, never an emergency or a right.

- A message that speaks of danger now gets the advice to call 110 at once, and every
  Kapolres gets it as an urgent alert (the sender masked, the text as staff read it).
- ``/status``, ``/hapusdata`` (and the answer to its question) and ``/bantuan`` work as for
  anyone: the citizen's rights to know and to be forgotten do not depend on the block.
- Anything else is not read; the sender is reminded, at most once a day, why and until when.
"""

from __future__ import annotations

from datetime import datetime

from conversations.commands import parse_command
from conversations.domain import Role
from conversations.guard import Block
from conversations.i18n import _, current_locale, use_locale
from conversations.intake.prefill import Understander
from conversations.messages import Inbound, Outbound
from conversations.ports import Changes, Store
from conversations.privacy import for_staff, masked_identity
from conversations.state import Conversation, Step

RIGHTS = frozenset({"status", "hapusdata", "bantuan"})
ALERT_PREVIEW = 1000


def lets_through(conv: Conversation | None, msg: Inbound) -> bool:
    """Whether a blocked sender's message is read as anyone's: a right, or the answer to
    the erasure question."""
    if conv is not None and conv.step == Step.ERASE_CONFIRM:
        return True
    command = parse_command(msg.text) if msg.text and not msg.attachments else None
    return command is not None and command.name in RIGHTS


def emergency_advice() -> str:
    return _(
        "If someone is in danger right now, call 110 immediately (free, 24 hours). Your "
        "message was passed on to the Kapolres as urgent."
    )


def block_reason(block: Block) -> str:
    """Why the sender is blocked, in their language."""
    if block.reason == "prank":
        return _("several of your reports were rejected by officers as pranks")
    return block.reason


async def emergency(
    store: Store,
    understander: Understander | None,
    msg: Inbound,
    now: datetime,
) -> Changes | None:
    """The changes for a blocked sender's message about danger now (advice, alerts), or
    None when it is no emergency."""
    text = msg.text.strip()
    if not text or understander is None or not understander.prefill(text, now).urgent:
        return None
    changes = Changes(key=msg.key, inbound_id=msg.message_id)
    changes.replies.append(
        Outbound(msg.channel, msg.chat_id, emergency_advice(), locale=current_locale())
    )
    who = masked_identity(msg.channel, msg.sender_id) or _("not shown")
    for chief in await store.officers(roles=(Role.KAPOLRES,)):
        with use_locale(None):
            alert = _(
                "URGENT: a blocked sender (%(who)s) writes of danger now. They were told to "
                "call 110.\n%(text)s"
            ) % {"who": who, "text": for_staff(text[:ALERT_PREVIEW])}
            changes.replies.append(
                Outbound(chief.channel, chief.external_id, alert, locale=current_locale())
            )
    return changes
