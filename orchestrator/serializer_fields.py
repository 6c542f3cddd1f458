"""Serializer fields the API shares, and the API's strict reading of strings."""

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


_lenient_string = serializers.CharField.to_internal_value


def _strict_string(self: serializers.CharField, data: Any) -> str:
    # JSON numbers are not strings: DRF would read {"case_type": 0} as "0". Form and
    # multipart bodies and query strings are always strings, so only JSON is affected.
    if not isinstance(data, str):
        # CharField's own message: a slug field's "invalid" speaks of letters and hyphens.
        raise serializers.ValidationError(
            serializers.CharField.default_error_messages["invalid"], code="invalid"
        )
    return str(_lenient_string(self, data))


def install_strict_strings() -> None:
    """Every CharField (slugs, e-mail addresses, regex and URL fields included) reads only
    strings, as the schema says (the schemathesis soak had a number accepted as a case type).
    Called once from the app's ``ready``."""
    serializers.CharField.to_internal_value = _strict_string  # type: ignore[method-assign,assignment]
