"""Node types. Importing this package registers every type in ``workflows.registry.REGISTRY``;
adding a type is one module here (plus its test), nothing else edited."""

from importlib import import_module
from pkgutil import iter_modules

for _module in iter_modules(__path__):
    import_module(f"{__name__}.{_module.name}")
