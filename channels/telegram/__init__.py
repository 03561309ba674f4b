"""The Telegram channel (python-telegram-bot) and its parts."""
