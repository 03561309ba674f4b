"""Options as Telegram inline keyboards, and which keyboards may still be pressed.

A button carries ``o:<option id>`` as callback data (at most 64 bytes; a longer id is sent as
a short hash remembered here). What comes back is never trusted: :meth:`OptionCodec.decode`
accepts only that shape, and the engine accepts the id only if it is among the options it
offered in that chat.

:class:`KeyboardLedger` remembers, per chat, the message whose keyboard is live and the
keyboards already retired (pressed, replaced by a newer question, or answered by typing), so a
second press on an old keyboard is answered "no longer active" without reaching the engine.
It is memory only: after a restart an old press reaches the engine, which refuses it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from conversations.messages import Option

__all__ = ["KeyboardLedger", "OptionCodec", "keyboard"]

MAX_CALLBACK_BYTES = 64
_PLAIN = "o:"
_HASHED = "h:"
_REMEMBERED = 10_000


class OptionCodec:
    def __init__(self) -> None:
        self._hashed: OrderedDict[str, str] = OrderedDict()

    def encode(self, option_id: str) -> str:
        data = _PLAIN + option_id
        if len(data.encode()) <= MAX_CALLBACK_BYTES:
            return data
        token = _HASHED + hashlib.sha256(option_id.encode()).hexdigest()[:32]
        self._hashed[token] = option_id
        self._hashed.move_to_end(token)
        while len(self._hashed) > _REMEMBERED:
            self._hashed.popitem(last=False)
        return token

    def decode(self, data: object) -> str | None:
        """The option id in a button's callback data, or None when it is not one of ours."""
        if not isinstance(data, str) or len(data.encode()) > MAX_CALLBACK_BYTES:
            return None
        if data.startswith(_PLAIN):
            option_id = data[len(_PLAIN) :]
            return option_id if option_id and option_id.isprintable() else None
        if data.startswith(_HASHED):
            return self._hashed.get(data)
        return None


def keyboard(options: tuple[Option, ...], codec: OptionCodec) -> InlineKeyboardMarkup:
    """One button per row, labelled with the option's label."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(o.label[:200] or "-", callback_data=codec.encode(o.id))]
            for o in options
        ]
    )


@dataclass(frozen=True, slots=True)
class Shown:
    message_id: int
    locale: str


@dataclass(frozen=True, slots=True)
class Pressed:
    stale: bool
    locale: str | None  # the language the keyboard was shown in, when known
    repeat: bool = False  # stale, and the very button that was pressed on it before


class KeyboardLedger:
    def __init__(self, remembered: int = _REMEMBERED) -> None:
        self._live: dict[str, Shown] = {}
        self._retired: OrderedDict[tuple[str, int], str] = OrderedDict()
        self._chosen: dict[tuple[str, int], str] = {}  # the button pressed on a keyboard
        self._remembered = remembered

    def shown(self, chat_id: str, message_id: int, locale: str) -> Shown | None:
        """A new keyboard is live in ``chat_id``; returns the previous one, now retired."""
        previous = self.take_live(chat_id)
        self._live[chat_id] = Shown(message_id, locale)
        return previous

    def take_live(self, chat_id: str) -> Shown | None:
        """Retire the live keyboard of ``chat_id`` (its question was answered) and return it."""
        previous = self._live.pop(chat_id, None)
        if previous is not None:
            self._retire(chat_id, previous.message_id, previous.locale)
        return previous

    def press(self, chat_id: str, message_id: int, option: str | None = None) -> Pressed:
        """A press on the keyboard of ``message_id``. Stale when that keyboard was retired
        already (``repeat`` when it is the button pressed there before: a double tap);
        otherwise it is retired now (so a second press is stale)."""
        key = (chat_id, message_id)
        if key in self._retired:
            repeat = option is not None and self._chosen.get(key) == option
            return Pressed(stale=True, locale=self._retired[key] or None, repeat=repeat)
        if option is not None:
            self._chosen[key] = option
        live = self._live.get(chat_id)
        locale = None
        if live is not None and live.message_id == message_id:
            del self._live[chat_id]
            locale = live.locale
        self._retire(chat_id, message_id, locale or "")
        return Pressed(stale=False, locale=locale)

    def _retire(self, chat_id: str, message_id: int, locale: str) -> None:
        self._retired[(chat_id, message_id)] = locale
        self._retired.move_to_end((chat_id, message_id))
        while len(self._retired) > self._remembered:
            forgotten, _locale = self._retired.popitem(last=False)
            self._chosen.pop(forgotten, None)
