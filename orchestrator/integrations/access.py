"""API-token authentication for the integration APIs, and what they ask of the policy.

The policy (``orchestrator.accounts.policy``) decides: ``integration.configure`` (admins) edits
the routing table and issues tokens; ``integration.manage`` (admins, integration engineers and
the service users of API tokens, who have the integration role) submits and reads cases, reads
a message's raw content and reprocesses it; ``message.read`` (also pathologists) lists
messages and reads the routing table. Another department's object is 404; every denial is
audited by the policy.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from orchestrator.accounts.models import Role, User
from orchestrator.accounts.policy import Permission, can
from orchestrator.audit.actions import AuditAction
from orchestrator.audit.services import record_event
from orchestrator.integrations.inbound_models import ApiToken

TOKEN_PREFIX = "pf_"  # noqa: S105 - the visible start of every token, not a secret
# last_used_at is written at most this often per token (not one write per request).
LAST_USED_RESOLUTION = timedelta(minutes=1)


def user_of(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def sees_raw(user: User) -> bool:
    """Whether ``user`` may read a message's raw content (admins, integration engineers)."""
    return bool(can(user, Permission.INTEGRATION_MANAGE))


def department_id(user: User) -> int:
    """The user's department id (the policy has made sure there is one)."""
    if user.department_id is None:
        raise exceptions.PermissionDenied("your account belongs to no department")
    return user.department_id


# --- API tokens ---------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def do_create_token(department_user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token for ``department_user``'s department; the secret is returned only here."""
    assert department_user.department is not None
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        service_user = User.objects.create(
            username=f"api-{prefix}",
            department=department_user.department,
            role=Role.INTEGRATION,
            display_name=f"API client {name}",
        )
        service_user.set_unusable_password()
        service_user.save(update_fields=["password"])
        token = ApiToken.objects.create(
            department=department_user.department,
            name=name,
            prefix=prefix,
            key_hash=_hash(secret),
            user=service_user,
            created_by=department_user,
        )
        record_event(
            AuditAction.API_TOKEN_CREATED, token, actor=department_user, department=token.department
        )
    return token, secret


def do_revoke_token(token: ApiToken, user: User) -> ApiToken:
    with transaction.atomic():
        if token.revoked_at is None:
            token.revoked_at, token.revoked_by = timezone.now(), user
            token.save(update_fields=["revoked_at", "revoked_by"])
            User.objects.filter(pk=token.user_id).update(is_active=False)
        record_event(AuditAction.API_TOKEN_REVOKED, token, actor=user, department=token.department)
    return token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer pf_<prefix>_<secret>``: the token's service user."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, ApiToken] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        scheme, _, secret = header.partition(" ")
        if scheme != self.keyword or not secret.startswith(TOKEN_PREFIX):
            return None
        prefix = secret[len(TOKEN_PREFIX) :].split("_", 1)[0]
        token = ApiToken.objects.select_related("user").filter(prefix=prefix).first()
        if token is None or not secrets.compare_digest(token.key_hash, _hash(secret.strip())):
            raise exceptions.AuthenticationFailed("invalid API token")
        if token.revoked_at is not None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("this API token was revoked")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Names the token scheme in the OpenAPI schema."""

    target_class = "orchestrator.integrations.access.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "an API token issued by a department admin (pf_…)",
        }
