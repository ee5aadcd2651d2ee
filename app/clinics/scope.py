"""The staff query scope: the one place clinic isolation is enforced.

Every query the workspace makes about clinic data goes through a `StaffScope`: it knows
which clinics (and organisations) the signed-in staff member may see for each
permission, and narrows a query to them (`restrict`), or fetches one row only if it is
theirs (`get`). A row of another clinic is not "forbidden": it does not exist for them
(NotFound, a 404), so that ids tell an outsider nothing. Routes never check clinics
themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, select

from app.clinics.models import Clinic, StaffGrant
from app.clinics.roles import PERMISSIONS, Permission, Role
from app.core.errors import NotFound, WeSaidError
from app.extensions import db

T = TypeVar("T")


class Forbidden(WeSaidError):
    """The staff member may not do this anywhere (a 403): their roles do not allow it."""


@dataclass(frozen=True)
class Reach:
    """Where one permission reaches: organisations, and clinics within them."""

    organisation_ids: frozenset[int] = frozenset()
    clinic_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class StaffScope:
    """What one signed-in staff member may see and do, clinic by clinic."""

    user_id: int
    roles: frozenset[Role]
    reach: dict[Permission, Reach] = field(default_factory=dict)

    def may(self, permission: Permission) -> bool:
        """Whether any of the user's roles grants `permission` somewhere."""
        return bool(self.reach.get(permission, Reach()).clinic_ids) or bool(
            self.reach.get(permission, Reach()).organisation_ids
        )

    def require(self, permission: Permission) -> None:
        """Raise Forbidden unless the user may do this somewhere."""
        if not self.may(permission):
            raise Forbidden(f"your role does not allow this ({permission.value})")

    def clinic_ids(self, permission: Permission) -> frozenset[int]:
        """The clinics where the user may do this."""
        return self.reach.get(permission, Reach()).clinic_ids

    def organisation_ids(self, permission: Permission) -> frozenset[int]:
        """The organisations where the user may do this (in at least one clinic)."""
        return self.reach.get(permission, Reach()).organisation_ids

    def allows(self, permission: Permission, clinic_id: int | None) -> bool:
        """Whether the user may do this in the clinic `clinic_id`."""
        return clinic_id is not None and clinic_id in self.clinic_ids(permission)

    def restrict(
        self, query: Select[Any], clinic_column: ColumnElement[Any], permission: Permission
    ) -> Select[Any]:
        """`query` narrowed to the rows of the clinics where the user may do this."""
        ids = self.clinic_ids(permission)
        if not ids:
            return query.where(false())
        return query.where(clinic_column.in_(sorted(ids)))

    def get(self, model: type[T], row_id: int, permission: Permission) -> T:
        """The row of `model` (which has a `clinic_id`) with this id, if it belongs to a
        clinic where the user may do this; NotFound otherwise, whether or not it exists."""
        row = db.session.get(model, row_id)
        if row is None or not self.allows(permission, getattr(row, "clinic_id", None)):
            raise NotFound("not found")
        return row

    def clinics(self, permission: Permission) -> list[Clinic]:
        """The clinics where the user may do this, by name."""
        ids = self.clinic_ids(permission)
        if not ids:
            return []
        return list(
            db.session.scalars(
                select(Clinic).where(Clinic.id.in_(sorted(ids))).order_by(Clinic.name)
            )
        )


NOBODY = StaffScope(user_id=0, roles=frozenset())


def scope_for(user_id: int) -> StaffScope:
    """The scope of the staff member `user_id`, from their grants as they are now."""
    grants = list(db.session.scalars(select(StaffGrant).where(StaffGrant.user_id == user_id)))
    clinics_of = _clinics_by_organisation({g.organisation_id for g in grants})
    reach: dict[Permission, tuple[set[int], set[int]]] = {}
    for grant in grants:
        role = Role(grant.role)
        within = clinics_of.get(grant.organisation_id, set())
        clinic_ids = within & set(grant.clinic_ids) if grant.clinic_ids else within
        for permission in PERMISSIONS[role]:
            organisations, clinics = reach.setdefault(permission, (set(), set()))
            organisations.add(grant.organisation_id)
            clinics |= clinic_ids
    return StaffScope(
        user_id=user_id,
        roles=frozenset(Role(g.role) for g in grants),
        reach={p: Reach(frozenset(o), frozenset(c)) for p, (o, c) in reach.items()},
    )


def _clinics_by_organisation(organisation_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = sorted(set(organisation_ids))
    if not ids:
        return {}
    found: dict[int, set[int]] = {}
    for clinic_id, organisation_id in db.session.execute(
        select(Clinic.id, Clinic.organisation_id).where(Clinic.organisation_id.in_(ids))
    ):
        found.setdefault(organisation_id, set()).add(clinic_id)
    return found
