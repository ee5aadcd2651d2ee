"""Public pages: no login. The survey web form behind a patient's signed link."""
