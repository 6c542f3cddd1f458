"""Model protocols: one small class per wire protocol, one module each, found through
``PROTOCOLS``. Importing this package imports every module in it, so adding a protocol is one
module here (plus its test); the catalog's endpoint kinds are computed from the registry."""

from importlib import import_module
from pkgutil import iter_modules

from workflows.protocols.base import PROTOCOLS, ModelProtocol, ModelResult

for _module in iter_modules(__path__):
    import_module(f"{__name__}.{_module.name}")

__all__ = ["PROTOCOLS", "ModelProtocol", "ModelResult"]
