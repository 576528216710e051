"""Schema migrations (sqlite-utils' own): named, each in a transaction, applied once, never edited.

Add a new function at the end to change the schema; never change one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("rebond")

SESSION_STATUSES = ("active", "paused", "completed", "abandoned")
CHECKIN_STATUSES = ("claimed", "sent", "snoozed", "answered", "missed", "skipped", "undelivered")
"""Since 0005; `undelivered`: the bot could not deliver it before its grace ended."""


@MIGRATIONS(name="0001_core")
def core_tables(db: Database) -> None:
    """Users, playbook versions, sessions and the append-only answers log."""
    statuses = ", ".join(f"'{status}'" for status in SESSION_STATUSES)
    db.executescript(
        f"""
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            display_name TEXT,
            lang TEXT CHECK (lang IN ('fr', 'en')),
            lang_chosen INTEGER NOT NULL DEFAULT 0,
            current_session_id INTEGER,
            onboarded_at TEXT,
            created_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL
        );
        CREATE TABLE playbook_versions (
            version TEXT PRIMARY KEY,
            text TEXT NOT NULL,
            source TEXT,
            first_seen_at TEXT NOT NULL
        );
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            flow TEXT NOT NULL,
            playbook_version TEXT NOT NULL REFERENCES playbook_versions(version),
            status TEXT NOT NULL CHECK (status IN ({statuses})),
            state TEXT NOT NULL,
            outputs TEXT,
            summary TEXT,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            completed_at TEXT
        );
        CREATE INDEX sessions_by_user ON sessions(user_id, flow, status);
        CREATE UNIQUE INDEX one_open_session_per_flow ON sessions(user_id, flow)
            WHERE status IN ('active', 'paused');
        CREATE TABLE answers (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            step TEXT NOT NULL,
            section TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('answer', 'skip', 'amend')),
            raw_text TEXT NOT NULL,
            value TEXT,
            created_at TEXT NOT NULL,
            idempotency_key TEXT NOT NULL UNIQUE
        );
        CREATE INDEX answers_by_session ON answers(session_id, id);
        CREATE TRIGGER answers_are_append_only BEFORE UPDATE ON answers
        BEGIN
            SELECT RAISE(ABORT, 'answers are append-only: insert a new row instead');
        END;
        """
    )


@MIGRATIONS(name="0002_telegram")
def telegram_delivery(db: Database) -> None:
    """Processed updates (exactly once; `replied_at` once the bot's reply went out), blocked
    users, and which messages hold the current question and each answer."""
    db.executescript(
        """
        ALTER TABLE users ADD COLUMN blocked_at TEXT;
        ALTER TABLE users ADD COLUMN question_message_id INTEGER;
        ALTER TABLE answers ADD COLUMN source_ref TEXT;
        CREATE INDEX answers_by_source ON answers(session_id, source_ref);
        CREATE TABLE processed_updates (
            key TEXT PRIMARY KEY,
            user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,
            answer_id INTEGER REFERENCES answers(id) ON DELETE CASCADE,
            processed_at TEXT NOT NULL,
            replied_at TEXT
        );
        CREATE INDEX processed_updates_by_user ON processed_updates(user_id);
        """
    )


@MIGRATIONS(name="0003_checkins")
def checkin_tables(db: Database) -> None:
    """Check-in settings with each user's next due time (indexed), and one row per check-in day."""
    db.executescript(
        """
        CREATE TABLE checkin_settings (
            user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            enabled INTEGER NOT NULL DEFAULT 0,
            local_time TEXT NOT NULL,
            timezone TEXT NOT NULL,
            weekdays_only INTEGER NOT NULL DEFAULT 0,
            paused_until TEXT,
            next_due_at TEXT,
            snoozed_checkin_id INTEGER,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX checkins_due ON checkin_settings(next_due_at) WHERE enabled = 1;
        CREATE TABLE checkins (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            local_date TEXT NOT NULL,
            kind TEXT NOT NULL,
            flow TEXT NOT NULL,
            due_at TEXT NOT NULL,
            status TEXT NOT NULL CHECK (
                status IN ('claimed', 'sent', 'snoozed', 'answered', 'missed', 'skipped')
            ),
            session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
            snoozed INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            answered_at TEXT,
            UNIQUE (user_id, local_date)
        );
        CREATE INDEX checkins_by_session ON checkins(session_id);
        CREATE INDEX checkins_claimed ON checkins(status) WHERE status = 'claimed';
        """
    )


@MIGRATIONS(name="0004_coach")
def coach_tables(db: Database) -> None:
    """Invites, consented links, privacy of reflections, notes, feedback, notifications, audit."""
    db.executescript(
        """
        ALTER TABLE sessions ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sessions ADD COLUMN shared_at TEXT;
        CREATE INDEX sessions_by_completion ON sessions(user_id, flow, status, completed_at);
        CREATE TABLE invites (
            code TEXT PRIMARY KEY,
            coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            opened_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            used_by INTEGER REFERENCES users(id) ON DELETE SET NULL,
            used_at TEXT
        );
        CREATE INDEX invites_by_opener ON invites(opened_by);
        CREATE TABLE links (
            id INTEGER PRIMARY KEY,
            coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            include_checkins INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE UNIQUE INDEX one_active_link_per_manager ON links(manager_id) WHERE ended_at IS NULL;
        CREATE INDEX links_by_coach ON links(coach_id, ended_at);
        CREATE TABLE coach_notes (
            id INTEGER PRIMARY KEY,
            coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            source_key TEXT UNIQUE
        );
        CREATE INDEX coach_notes_by_session ON coach_notes(session_id);
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            coach_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            source_key TEXT UNIQUE
        );
        CREATE INDEX feedback_by_session ON feedback(session_id);
        CREATE INDEX feedback_undelivered ON feedback(delivered_at) WHERE delivered_at IS NULL;
        CREATE TABLE coach_preferences (
            coach_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
            notify INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE notifications (
            id INTEGER PRIMARY KEY,
            coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            not_before TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX notifications_pending ON notifications(not_before) WHERE sent_at IS NULL;
        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            coach_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            target TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX audit_by_manager ON audit(manager_id, at);
        CREATE INDEX answers_by_session_step ON answers(session_id, step);
        """
    )


@MIGRATIONS(name="0005_inbox_outbox")
def inbox_outbox(db: Database) -> None:
    """Telegram delivery: the inbox of received updates, the outbox of Bot API calls, the row
    showing each user's question, and check-ins the bot could not deliver (`undelivered`)."""
    statements = """
        CREATE TABLE inbox (
            update_id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            payload TEXT NOT NULL,
            received_at TEXT NOT NULL,
            processed_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE INDEX inbox_unprocessed ON inbox(update_id) WHERE processed_at IS NULL;
        CREATE INDEX inbox_processed ON inbox(processed_at) WHERE processed_at IS NOT NULL;
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            priority INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            method TEXT NOT NULL,
            payload TEXT NOT NULL,
            not_before TEXT NOT NULL,
            deadline TEXT NOT NULL,
            ref_outbox_id INTEGER,
            subject TEXT,
            message_id INTEGER,
            status TEXT NOT NULL CHECK (
                status IN ('pending', 'sent', 'done', 'failed', 'expired')
            ),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX outbox_pending ON outbox(chat_id, id) WHERE status = 'pending';
        CREATE INDEX outbox_finished ON outbox(updated_at) WHERE status != 'pending';
        ALTER TABLE users ADD COLUMN question_outbox_id INTEGER
    """
    # One statement at a time: executescript() would commit the migration's transaction.
    for statement in statements.split(";"):
        db.execute(statement)
    statuses = ", ".join(f"'{status}'" for status in CHECKIN_STATUSES)
    _rebuild(
        db,
        "checkins",
        f"""
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        local_date TEXT NOT NULL,
        kind TEXT NOT NULL,
        flow TEXT NOT NULL,
        due_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ({statuses})),
        session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
        snoozed INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        answered_at TEXT
        """,
        """
        CREATE UNIQUE INDEX checkins_one_per_day ON checkins(user_id, local_date);
        CREATE INDEX checkins_by_session ON checkins(session_id);
        CREATE INDEX checkins_claimed ON checkins(status) WHERE status = 'claimed';
        """,
    )


@MIGRATIONS(name="0007_repair_source_key")
def repair_source_key(db: Database) -> None:
    """Bring databases created by 0004 as it first shipped to the schema 0004 has now.

    0004 was edited after it landed (it should not have been): databases created before lack
    `coach_notes.source_key` and `feedback.source_key` (so /note and /feedback fail on them),
    and delete a coach's feedback and audit with the coach instead of keeping them with
    coach_id NULL. Each repair runs only where it is needed, so fresh databases are untouched.
    """
    for table in ("coach_notes", "feedback"):
        if "source_key" not in db[table].columns_dict:
            db.execute(f"ALTER TABLE {table} ADD COLUMN source_key TEXT")
            # SQLite cannot add a UNIQUE column: a unique index says the same (NULLs may repeat).
            db.execute(f"CREATE UNIQUE INDEX {table}_source_key ON {table}(source_key)")
    if _coach_deletion_cascades(db, "feedback"):
        _rebuild(
            db,
            "feedback",
            """
            id INTEGER PRIMARY KEY,
            coach_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            source_key TEXT UNIQUE
            """,
            """
            CREATE INDEX feedback_by_session ON feedback(session_id);
            CREATE INDEX feedback_undelivered ON feedback(delivered_at) WHERE delivered_at IS NULL;
            """,
        )
    if _coach_deletion_cascades(db, "audit"):
        _rebuild(
            db,
            "audit",
            """
            id INTEGER PRIMARY KEY,
            coach_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            action TEXT NOT NULL,
            target TEXT,
            at TEXT NOT NULL
            """,
            "CREATE INDEX audit_by_manager ON audit(manager_id, at);",
        )


def _coach_deletion_cascades(db: Database, table: str) -> bool:
    """True when deleting a coach deletes the table's rows (0004 as first shipped)."""
    return any(
        row[3] == "coach_id" and row[6] == "CASCADE"
        for row in db.execute(f"PRAGMA foreign_key_list({table})").fetchall()
    )


def _rebuild(db: Database, table: str, columns: str, indexes: str) -> None:
    """Recreate `table` with `columns`, rows kept (SQLite's way to change a constraint)."""
    names = ", ".join(column.split()[0] for column in columns.strip().split(",\n"))
    # One statement at a time: executescript() would commit the migration's transaction.
    db.execute(f"CREATE TABLE {table}_repaired ({columns})")
    db.execute(f"INSERT INTO {table}_repaired ({names}) SELECT {names} FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {table}_repaired RENAME TO {table}")
    for index in indexes.split(";"):
        if index.strip():
            db.execute(index)


@MIGRATIONS(name="0006_truth")
def truth(db: Database) -> None:
    """What views read: the answers on the path taken (a view) and a coach's own time zone
    (the check-in status 'undelivered', which streaks skip, comes with 0005)."""
    # One statement at a time: executescript() would commit the migration's transaction.
    db.execute("ALTER TABLE coach_preferences ADD COLUMN timezone TEXT")
    db.execute(
        """
        CREATE VIEW answers_on_path AS
            SELECT answers.* FROM answers JOIN sessions ON sessions.id = answers.session_id
            WHERE answers.id = (
                SELECT max(latest.id) FROM answers AS latest
                WHERE latest.session_id = answers.session_id AND latest.step = answers.step
            )
            AND EXISTS (
                SELECT 1 FROM json_each(sessions.state, '$.answers') AS kept
                WHERE kept.key = answers.step
            )
        """
    )


@MIGRATIONS(name="0006b_truth")
def followups_only(db: Database) -> None:
    """Follow-ups (D+7, D+30) for a manager who declined daily check-ins: the scheduler wakes
    at their check-in time but only sends a follow-up that is due."""
    db.execute("ALTER TABLE checkin_settings ADD COLUMN followups_only INTEGER NOT NULL DEFAULT 0")


@MIGRATIONS(name="0009_web")
def web_tables(db: Database) -> None:
    """The coach's web view: its generated secret, one-time sign-in links, browser sessions."""
    db.executescript(
        """
        CREATE TABLE web_secret (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            secret TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE web_links (
            nonce TEXT PRIMARY KEY,
            coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT
        );
        CREATE TABLE web_sessions (
            id INTEGER PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            coach_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            via TEXT NOT NULL CHECK (via IN ('link', 'telegram')),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            ended_at TEXT
        );
        CREATE INDEX web_sessions_by_coach ON web_sessions(coach_id, ended_at);
        -- What a coach may see, answered from the index alone: `private`, `shared_at` and
        -- `completed_at` lie after the JSON state in each row, so reading them from the table
        -- walks the row's overflow pages (/managers at 100 managers with 286 reflections each:
        -- 274 ms before, see bench/web.py).
        CREATE INDEX sessions_visible
            ON sessions(user_id, flow, status, private, shared_at, completed_at);
        """
    )


@MIGRATIONS(name="0011_journey")
def journey_tables(db: Database) -> None:
    """The manager's journey after a reflection: quiet hours and reminder choice, cancelled
    reflections, the reminders sent, commitments with their due dates, the coach thread."""
    db.executescript(
        """
        ALTER TABLE users ADD COLUMN quiet_hours TEXT;
        ALTER TABLE users ADD COLUMN nudges_stopped_at TEXT;
        ALTER TABLE users ADD COLUMN replying_to INTEGER;
        ALTER TABLE sessions ADD COLUMN cancelled_at TEXT;
        CREATE TABLE nudges (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL,
            sent_at TEXT NOT NULL,
            UNIQUE (session_id, ordinal)
        );
        CREATE INDEX nudges_by_user ON nudges(user_id);
        CREATE TABLE commitments (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL CHECK (kind IN ('first_step', 'contact', 'team_talk', 'next_step')),
            text TEXT NOT NULL,
            when_text TEXT,
            due_date TEXT,
            status TEXT NOT NULL DEFAULT 'open' CHECK (
                status IN ('open', 'in_progress', 'postponed', 'done', 'dropped')
            ),
            parent_id INTEGER REFERENCES commitments(id) ON DELETE SET NULL,
            asked_session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
            asked_on TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX commitments_due ON commitments(user_id, status, due_date);
        CREATE INDEX commitments_by_asking_session ON commitments(asked_session_id);
        CREATE TABLE coach_thread (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            coach_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
            author TEXT NOT NULL CHECK (author IN ('manager', 'coach')),
            feedback_id INTEGER REFERENCES feedback(id) ON DELETE SET NULL,
            text TEXT NOT NULL,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            source_key TEXT UNIQUE
        );
        CREATE INDEX coach_thread_by_session ON coach_thread(session_id, id);
        CREATE INDEX coach_thread_by_coach ON coach_thread(coach_id);
        """
    )


@MIGRATIONS(name="0010_team_round")
def team_round_tables(db: Database) -> None:
    """Team rounds; team members' answers keyed by a random token; and, apart, the link from a
    member to their token, without which nobody can tell whose answer is whose.

    No answer or link row carries a time, and both tables are WITHOUT ROWID, stored in the
    order of their random keys: neither insertion order nor a clock can pair them up.
    """
    db.executescript(
        """
        CREATE TABLE team_rounds (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            manager_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
            reflection_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,
            lang TEXT NOT NULL CHECK (lang IN ('fr', 'en')),
            own_question TEXT,
            status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
            opened_at TEXT NOT NULL,
            closes_at TEXT NOT NULL,
            closed_at TEXT,
            summary_sent_at TEXT
        );
        CREATE INDEX team_rounds_due ON team_rounds(closes_at) WHERE status = 'open';
        CREATE INDEX team_rounds_by_manager ON team_rounds(manager_id, id);
        CREATE TABLE team_answers (
            token TEXT PRIMARY KEY,
            round_id INTEGER NOT NULL REFERENCES team_rounds(id) ON DELETE CASCADE,
            answer TEXT,
            draft TEXT
        ) WITHOUT ROWID;
        CREATE INDEX team_answers_by_round ON team_answers(round_id);
        CREATE TABLE team_members (
            round_id INTEGER NOT NULL REFERENCES team_rounds(id) ON DELETE CASCADE,
            member_key TEXT NOT NULL,
            token TEXT NOT NULL UNIQUE,
            PRIMARY KEY (round_id, member_key)
        ) WITHOUT ROWID;
        CREATE INDEX team_members_by_key ON team_members(member_key);
        """
    )


@MIGRATIONS(name="0012_delivery_payloads")
def delivery_payloads(db: Database) -> None:
    """A coach notification's `sent_at` becomes its delivery (the sender's success), as a
    check-in's is; `handled_at` is when it was dealt with (queued, or dropped because the
    reflection was not shared). Rows from before keep `sent_at` as it was: their queue time.
    Processed inbox rows lose their payload (kept only until processing from now on)."""
    for statement in (
        "ALTER TABLE notifications ADD COLUMN handled_at TEXT",
        "UPDATE notifications SET handled_at = sent_at",
        "DROP INDEX IF EXISTS notifications_pending",
        "CREATE INDEX notifications_pending ON notifications(not_before) WHERE handled_at IS NULL",
        "UPDATE inbox SET payload = '' WHERE processed_at IS NOT NULL",
    ):
        db.execute(statement)


@MIGRATIONS(name="0013_truth_dates")
def coach_zone_asked(db: Database) -> None:
    """When a coach was asked, once, which time zone they read times in (refs #10)."""
    db.execute("ALTER TABLE coach_preferences ADD COLUMN zone_asked_at TEXT")


@MIGRATIONS(name="0016_understanding_telegram")
def understanding_telegram(db: Database) -> None:
    """A chat's updates in order: the message before this one (a paste Telegram split, an
    album) is found without scanning the inbox."""
    db.execute("CREATE INDEX inbox_by_chat ON inbox(chat_id, update_id)")


@MIGRATIONS(name="0017_web")
def web_board(db: Database) -> None:
    """The web view's board: when a coach read each reply of a manager, the coaches' chats that
    got a menu (to take it back from a coach who is removed), and the indexes its pages need."""
    # One statement at a time: executescript() would commit the migration's transaction.
    # commitments_by_session and _by_parent: a reflection's commitments and the next steps that
    # followed them are walked by the reflection page (commitments_of_session) and the boards;
    # without them every walk scanned the whole table (166 ms a reflection page, bench/web.py).
    # coach_menus is filled with the chats that got a coach's menu before it existed (outbox).
    statements = """
        ALTER TABLE coach_thread ADD COLUMN read_at TEXT;
        CREATE INDEX coach_thread_unread ON coach_thread(coach_id, manager_id, session_id)
            WHERE author = 'manager' AND read_at IS NULL;
        CREATE INDEX commitments_by_session ON commitments(session_id);
        CREATE INDEX commitments_by_parent ON commitments(parent_id);
        CREATE TABLE coach_menus (
            chat_id INTEGER PRIMARY KEY,
            web_app INTEGER NOT NULL DEFAULT 0,
            published_at TEXT NOT NULL
        );
        INSERT INTO coach_menus (chat_id, web_app, published_at)
            SELECT chat_id, max(method = 'setChatMenuButton'), max(created_at) FROM outbox
            WHERE kind = 'commands' AND chat_id != 0
                AND method IN ('setMyCommands', 'setChatMenuButton')
            GROUP BY chat_id
    """
    for statement in statements.split(";"):
        db.execute(statement)


@MIGRATIONS(name="0018_inbox_commands")
def inbox_commands(db: Database) -> None:
    """A new message's number in its chat and the command it began with, so that an edit can
    tell whether the message first ran a command once its words are emptied (refs #8, #9)."""
    for statement in (
        "ALTER TABLE inbox ADD COLUMN message_id INTEGER",
        "ALTER TABLE inbox ADD COLUMN command TEXT",
        "UPDATE inbox SET message_id = json_extract(payload, '$.message.message_id') "
        "WHERE payload != ''",
        "CREATE INDEX inbox_by_message ON inbox(chat_id, message_id) WHERE message_id IS NOT NULL",
    ):
        db.execute(statement)


@MIGRATIONS(name="0019_web_counts")
def web_counts(db: Database) -> None:
    """The managers page reads the reflections a coach may see (storage.coach._VISIBLE) from
    two small indexes of those alone: by manager, to count them; by id, to tell whether the
    reflection of an open commitment or of a reply is one of them. Its moods find each
    check-in's session in an index too (refs #12)."""
    # sessions_visible answers the same count, but each of its entries carries completed_at and
    # the daily check-ins, and its range is compared on five columns: counting 100 managers'
    # 27,000 reflections took 8 ms from it, 3 ms from sessions_shared (bench/web.py). By id,
    # the row itself was read, and `private` and `shared_at` lie after the JSON state, on its
    # overflow pages: 500 rows walked per managers page (the reflections of 300 open
    # commitments and 200 unread replies), 1.5 ms. The other columns are there so that each
    # query reads the index alone. checkins_days: the board's 14 days of moods without reading
    # each check-in's row for its session_id (0.6 ms of 2.3 at 50 managers sharing them).
    # One statement at a time: executescript() would commit the migration's transaction.
    for statement in (
        """
        CREATE INDEX sessions_shared
            ON sessions(user_id, shared_at, flow, status, private)
            WHERE flow = 'lost_client' AND status = 'completed' AND private = 0
                  AND shared_at IS NOT NULL
        """,
        """
        CREATE INDEX sessions_shared_by_id
            ON sessions(id, user_id, shared_at, flow, status, private)
            WHERE flow = 'lost_client' AND status = 'completed' AND private = 0
                  AND shared_at IS NOT NULL
        """,
        "CREATE INDEX checkins_days ON checkins(user_id, local_date, session_id)",
    ):
        db.execute(statement)
