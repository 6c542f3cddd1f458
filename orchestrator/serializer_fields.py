"""The API's strict reading of JSON types: a value is read only as the type the schema gives.

DRF is lenient by default: a CharField reads ``{"case_type": 0}`` as ``"0"``, a FloatField
reads ``true`` as 1.0 and a BooleanField reads ``1`` as ``true``. A JSON client sending the
wrong type by mistake would never notice (the schemathesis soak had a boolean set a golden-case
threshold to 0). Form and multipart bodies and query strings carry only strings, so refusing
the other JSON types changes nothing for them: numeric and boolean strings are read as before.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

_lenient_string = serializers.CharField.to_internal_value
_lenient_float = serializers.FloatField.to_internal_value
_lenient_boolean = serializers.BooleanField.to_internal_value


def _strict_string(self: serializers.CharField, data: Any) -> str:
    if not isinstance(data, str):
        # CharField's own message: a slug field's "invalid" speaks of letters and hyphens.
        raise serializers.ValidationError(
            serializers.CharField.default_error_messages["invalid"], code="invalid"
        )
    return str(_lenient_string(self, data))


def _strict_float(self: serializers.FloatField, data: Any) -> float:
    if isinstance(data, bool):
        self.fail("invalid")
    return float(_lenient_float(self, data))


def _strict_boolean(self: serializers.BooleanField, data: Any) -> bool:
    if not isinstance(data, (bool, str)):
        self.fail("invalid", input=data)
    return bool(_lenient_boolean(self, data))


def install_strict_json_types() -> None:
    """Every CharField (slugs, e-mail addresses, regex and URL fields included) reads only
    strings, every FloatField only numbers and every BooleanField only booleans, whether the
    serializer names the field or ModelSerializer made it from the model. Called once from
    the app's ``ready``. (IntegerField and DecimalField already refuse booleans.)"""
    serializers.CharField.to_internal_value = _strict_string  # type: ignore[method-assign,assignment]
    serializers.FloatField.to_internal_value = _strict_float  # type: ignore[method-assign,assignment]
    serializers.BooleanField.to_internal_value = _strict_boolean  # type: ignore[method-assign,assignment]
