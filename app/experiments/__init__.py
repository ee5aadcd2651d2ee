"""Reminder-wording experiments: design, assignment, analysis and decisions."""
