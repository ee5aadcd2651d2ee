"""What the signed-in staff member's scope reaches, as the admin pages ask it.

- A clinic page (templates, settings) takes a clinic where the permission reaches: any
  other id is "not found", whether or not it exists.
- Staff accounts and organisation-wide API tokens belong to a whole organisation, so
  they are managed by those whose role reaches every clinic of it (`whole_organisations`).
"""

from __future__ import annotations

from app.clinics.models import Clinic, Organisation
from app.clinics.queries import covered_organisations
from app.clinics.roles import Permission
from app.core.errors import NotFound
from app.web.principal import staff_scope


def clinic_in_scope(clinic_id: int, permission: Permission) -> Clinic:
    """The clinic `clinic_id` if the permission reaches it; NotFound otherwise."""
    for clinic in staff_scope().clinics(permission):
        if clinic.id == clinic_id:
            return clinic
    raise NotFound("not found")


def whole_organisations(permission: Permission) -> list[Organisation]:
    """The organisations every clinic of which the permission reaches, by name."""
    scope = staff_scope()
    return covered_organisations(scope.organisation_ids(permission), scope.clinic_ids(permission))
