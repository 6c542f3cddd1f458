"""Delivery channels: one small class per channel, one module each, found through ``CHANNELS``.

Importing this package imports every module in it, so adding a channel is one module here (plus
its test in ``tests/workflows/channels/``): the deliver node's ``channel`` enum and the catalog's
destination kinds are computed from the registry."""

from importlib import import_module
from pkgutil import iter_modules

from workflows.channels.base import (
    CHANNELS,
    Answer,
    DeliveryChannel,
    Destination,
    OutboundMessage,
    Verdict,
    register_channel,
)

for _module in iter_modules(__path__):
    import_module(f"{__name__}.{_module.name}")

__all__ = [
    "CHANNELS",
    "Answer",
    "DeliveryChannel",
    "Destination",
    "OutboundMessage",
    "Verdict",
    "register_channel",
]
