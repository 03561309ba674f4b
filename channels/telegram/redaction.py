"""Keep the bot token and the citizens' words out of the logs.

python-telegram-bot logs every request and answer (message contents included) and its URLs
(which hold the token) at debug level; httpx logs each request URL at info level. The
channel raises those loggers' levels and puts a filter on the root handlers that replaces the
token wherever it still appears (a message, an argument, a formatted traceback).
"""

from __future__ import annotations

import logging

__all__ = ["guard_logs"]

TOKEN_MASK = "<token>"


class RedactToken(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, TOKEN_MASK), None
        if record.exc_info and not record.exc_text:
            text = logging.Formatter().formatException(record.exc_info)
            if self.secret in text:
                record.exc_text = text.replace(self.secret, TOKEN_MASK)
        return True


def guard_logs(token: str) -> None:
    floors = (("telegram", logging.INFO), ("httpx", logging.WARNING), ("httpcore", logging.WARNING))
    for name, floor in floors:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor:
            logger.setLevel(floor)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactToken) and f.secret == token for f in handler.filters):
            handler.addFilter(RedactToken(token))
