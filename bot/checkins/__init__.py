"""Daily check-ins and follow-ups: when they are due, and what happens when they are."""
