"""Coach review with the manager's consent."""
