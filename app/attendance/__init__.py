"""Non-attendance (DNA) analytics and reminder-wording experiments."""
