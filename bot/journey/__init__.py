"""The manager's journey after a reflection: home, reminders, commitments (refs #11)."""
