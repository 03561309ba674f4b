"""neonize, loaded on demand: only the WhatsApp worker process (and the tests that build its
events) ever import it, so a Telegram-only deployment never loads the Go library.

Importing neonize calls ``logging.basicConfig(level=INFO)`` on the root logger and leaks a
``uname`` pipe; :func:`load` undoes the first and answers the second without a process.
"""

from __future__ import annotations

import io
import logging
import os
import platform
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

__all__ = ["Sdk", "load"]

DEVICE_NAME = "TAROS"  # shown on the phone under Linked devices


@dataclass(frozen=True, slots=True)
class Sdk:
    client: ModuleType  # neonize.aioze.client
    events: ModuleType  # neonize.aioze.events
    dispatch: ModuleType  # neonize.events (event codes)
    proto: ModuleType  # neonize.proto.Neonize_pb2
    e2e: ModuleType  # neonize.proto.waE2E.WAWebProtobufsE2E_pb2
    enums: ModuleType  # neonize.utils.enum
    errors: ModuleType  # neonize.exc
    device_props: Any  # waCompanionReg DeviceProps
    version: str

    def new_client(self, session: str, client_class: Any = None) -> Any:
        props = self.device_props(os=DEVICE_NAME, platformType=self.device_props.DESKTOP)
        return (client_class or self.client.NewAClient)(session, props=props)

    def jid(self, user: str, server: str) -> Any:
        return self.proto.JID(
            User=user, Server=server, Device=0, RawAgent=0, Integrator=0, IsEmpty=False
        )


@cache
def load() -> Sdk:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    real_popen = os.popen
    os.popen = _uname_popen(real_popen)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sdk = _import()
    finally:
        os.popen = real_popen
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("neonize.utils.ffmpeg").setLevel(logging.ERROR)  # we convert no media
    return sdk


def _uname_popen(real: Callable[..., Any]) -> Callable[..., Any]:
    """neonize runs ``os.popen("uname -a")`` (twice) to detect Android and never closes the
    pipe; answer it from :func:`platform.uname` instead."""

    def popen(command: str, *args: Any, **kwargs: Any) -> Any:
        if command == "uname -a":
            return io.StringIO(" ".join(platform.uname()))
        return real(command, *args, **kwargs)

    return popen


def _import() -> Sdk:
    import neonize
    import neonize.aioze.client as client
    import neonize.aioze.events as events
    import neonize.events as dispatch
    import neonize.exc as errors
    import neonize.proto.Neonize_pb2 as proto
    import neonize.proto.waE2E.WAWebProtobufsE2E_pb2 as e2e
    import neonize.utils.enum as enums
    from neonize.proto.waCompanionReg.WAWebProtobufsCompanionReg_pb2 import DeviceProps

    return Sdk(
        client=client,
        events=events,
        dispatch=dispatch,
        proto=proto,
        e2e=e2e,
        enums=enums,
        errors=errors,
        device_props=DeviceProps,
        version=getattr(neonize, "__version__", "?"),
    )
