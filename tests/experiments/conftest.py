"""The experiments share the attendance tests' world of clinics, patients and bookings."""

from tests.attendance.conftest import world

__all__ = ["world"]
