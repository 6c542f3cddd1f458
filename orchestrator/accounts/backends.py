"""The password backend, loading a signed-in user together with their department.

Every request of a signed-in user loads the user from the session; nearly every API operation
then reads the user's department (scoping, the audit event's department). Loading both in one
query saves a round trip per request. Authentication itself is Django's, unchanged.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from orchestrator.accounts.models import User


class DepartmentModelBackend(ModelBackend):
    def get_user(self, user_id: int) -> User | None:
        try:
            user = User._default_manager.select_related("department").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
