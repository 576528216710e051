"""The baseline for bench/telegram_throughput.py: an echo bot with Rebond's call mix.

Per update it does what Rebond does for a pressed button, with python-telegram-bot's own
Updater and nothing else: one durable SQLite commit (synchronous=FULL, WAL), then answer the
callback query, edit the pressed question (a tick, keyboard gone) and send the next question
with a button. A text message gets the commit and the next question.

Usage: python bench/echo_bot.py API_URL TOKEN DB_PATH
"""

from __future__ import annotations

import os
import sqlite3
import sys

os.environ.setdefault("PTB_TIMEDELTA", "true")

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

NEXT = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])


def main() -> None:
    """Poll the given Bot API server until killed."""
    api_url, token, db_path = sys.argv[1], sys.argv[2], sys.argv[3]
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE IF NOT EXISTS seen (update_id INTEGER PRIMARY KEY, chat_id INTEGER)")

    def commit(update: Update) -> int:
        chat = update.effective_chat
        assert chat is not None
        db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", [update.update_id, chat.id])
        return chat.id

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        chat_id = commit(update)
        await query.answer()
        await context.bot.edit_message_text(
            f"{query.message.text}\n\n✓ Next", chat_id=chat_id, message_id=query.message.message_id
        )
        await ask_next(context, chat_id, update.update_id)

    async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await ask_next(context, commit(update), update.update_id)

    async def ask_next(context: ContextTypes.DEFAULT_TYPE, chat_id: int, update_id: int) -> None:
        await context.bot.send_message(chat_id, f"Question after {update_id}", reply_markup=NEXT)

    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(CallbackQueryHandler(pressed))
    application.add_handler(MessageHandler(filters.TEXT, typed))
    application.run_polling(poll_interval=0, timeout=1, drop_pending_updates=False)


if __name__ == "__main__":
    main()
