"""The WhatsApp worker of the product with :class:`whatsapp_fakes.RecordingClient` in place
of neonize's client: run as ``python tests/whatsapp_fake_worker.py DATA_DIR ...``.

A text containing ``BOOM`` makes the message handler fail, as a bug in it would."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from whatsapp_fakes import RecordingClient

from channels.whatsapp import session as whatsapp_session
from channels.whatsapp.worker import main

_classify = whatsapp_session.classify


def _failing_on_boom(event: Any) -> Any:
    if "BOOM" in event.Message.conversation:
        raise RuntimeError("a bug in the message handler")
    return _classify(event)


whatsapp_session.classify = _failing_on_boom

if __name__ == "__main__":
    main(sys.argv[1:], client_class=RecordingClient)
