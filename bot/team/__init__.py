"""The team round: a manager asks the team, anonymously, how it feels and what it would do."""
