"""A bounded cache of committed conversation rows (bench/README.md): the rows of the most
recently active chats, so that a chat's next message needs no read.

The store writes it through after each commit, with the row as read back inside the
transaction. It holds rows (immutable), never :class:`~conversations.state.Conversation`
objects: callers get a fresh one each time, so nothing they mutate reaches the cache.
"""

from __future__ import annotations

from collections import OrderedDict

from bot.storage.conversation_rows import ConversationRow
from conversations.messages import ChatKey

CACHED_CONVERSATIONS = 2048


class ConversationCache:
    """At most ``size`` chats' rows (None: the chat has no row), least recently used out."""

    def __init__(self, size: int = CACHED_CONVERSATIONS) -> None:
        self.size = size
        self._rows: OrderedDict[ChatKey, ConversationRow | None] = OrderedDict()

    def __contains__(self, key: ChatKey) -> bool:
        return key in self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def get(self, key: ChatKey) -> ConversationRow | None:
        """The cached row of a chat that is cached (``key in cache``), marked as recent."""
        self._rows.move_to_end(key)
        return self._rows[key]

    def version(self, key: ChatKey) -> int | None:
        """The version a save of the chat must find (0: no row); None when not cached (then
        nothing is checked)."""
        if key not in self._rows:
            return None
        row = self._rows[key]
        return 0 if row is None else row[3]

    def remember(self, key: ChatKey, row: ConversationRow | None) -> None:
        self._rows[key] = row
        self._rows.move_to_end(key)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)

    def forget(self, key: ChatKey) -> None:
        self._rows.pop(key, None)

    def clear(self) -> None:
        self._rows.clear()
