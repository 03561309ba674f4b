"""Storage: the one SQLite connection (single writer) and, over it, one object per consumer.

- :mod:`~bot.storage.database` — the connection, its migrations, the single writer.
- :mod:`~bot.storage.store` — the engine's ``Store`` port (conversations, atomic changes, the
  dialogues' reads); its parts: :mod:`~bot.storage.changes` (applying a ``Changes``),
  :mod:`~bot.storage.conversation_rows`, :mod:`~bot.storage.conversation_cache`,
  :mod:`~bot.storage.inbound`, :mod:`~bot.storage.reporters`, :mod:`~bot.storage.tickets`,
  :mod:`~bot.storage.ticket_ops`, :mod:`~bot.storage.reporter_views`,
  :mod:`~bot.storage.queries`.
- :mod:`~bot.storage.outbox` — the outbox, for the dispatcher and for queued notices.
- :mod:`~bot.storage.timers` — durable timers, for the timer scheduler.
- :mod:`~bot.storage.blocks` — the anti-prank block list, for the guard.
- :mod:`~bot.storage.erasure` — the reporter's right to be forgotten.
"""
