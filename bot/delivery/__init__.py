"""Telegram delivery: updates into the inbox, worked chat by chat; an outbox, one sender."""
