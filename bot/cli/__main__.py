"""``python -m bot.cli``: the ``taros`` command."""

from bot.cli import main

raise SystemExit(main())
