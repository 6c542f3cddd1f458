"""Serializer fields the API shares."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictFloatField(serializers.FloatField):
    """A number, as the schema says: DRF's FloatField reads ``true``/``false`` as 1.0/0.0,
    which a JSON client sending a boolean by mistake would never notice. Numbers, and numeric
    strings from form bodies, are read as before."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return float(super().to_internal_value(data))
