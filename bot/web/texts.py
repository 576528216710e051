"""Every word of the web view, in French and English (the coach's language)."""

from __future__ import annotations

from datetime import date, datetime

from ..flows.model import Lang
from ..formatting import hour_text, short_day

TEXTS: dict[str, dict[Lang, str]] = {
    "site": {"fr": "Rebond · espace coach", "en": "Rebond · coach's view"},
    "skip": {"fr": "Aller au contenu", "en": "Skip to content"},
    "nav_managers": {"fr": "Mes managers", "en": "My managers"},
    "sign_out": {"fr": "Se déconnecter", "en": "Sign out"},
    "signed_out": {
        "fr": "Vous êtes déconnecté de ce navigateur.",
        "en": "You are signed out of this browser.",
    },
    "managers_title": {"fr": "Mes managers", "en": "My managers"},
    "no_managers": {
        "fr": "Aucun manager ne partage avec vous pour l'instant. Envoyez /invite au bot pour "
        "inviter un manager.",
        "en": "No manager shares with you yet. Send /invite to the bot to invite one.",
    },
    "col_manager": {"fr": "Manager", "en": "Manager"},
    "col_last_seen": {"fr": "Dernière activité", "en": "Last activity"},
    "col_reflections": {"fr": "Réflexions", "en": "Reflections"},
    "col_mood": {"fr": "Humeur (14 jours)", "en": "Mood (14 days)"},
    "col_open_commitments": {"fr": "Engagements en cours", "en": "Open commitments"},
    "col_unread_replies": {"fr": "Réponses non lues", "en": "Unread replies"},
    "commitments_title": {"fr": "Engagements", "en": "Commitments"},
    "no_commitments": {
        "fr": "Aucun engagement dans les réflexions partagées.",
        "en": "No commitment in the shared reflections.",
    },
    "col_commitment": {"fr": "Engagement", "en": "Commitment"},
    "col_state": {"fr": "Où il en est", "en": "Where it stands"},
    "col_due": {"fr": "Échéance", "en": "Due"},
    "show_all_commitments": {
        "fr": "Voir les {count} engagements terminés plus anciens",
        "en": "Show the {count} older finished commitments",
    },
    "replies_title": {"fr": "Échanges avec le manager", "en": "Replies with the manager"},
    "no_replies": {"fr": "Pas encore de réponse.", "en": "No reply yet."},
    "replies_help": {
        "fr": "Le manager répond à vos retours dans Telegram ; répondez-lui avec /reply.",
        "en": "The manager answers your feedback in Telegram; answer them with /reply.",
    },
    "mood_not_shared": {"fr": "Points du jour non partagés", "en": "Check-ins not shared"},
    "mood_none": {"fr": "Pas encore de point du jour", "en": "No check-in yet"},
    "trend": {"fr": "Tendance : {trend}", "en": "Trend: {trend}"},
    "reflections_title": {"fr": "Réflexions partagées", "en": "Shared reflections"},
    "no_reflections": {
        "fr": "Aucune réflexion partagée pour l'instant.",
        "en": "No shared reflection yet.",
    },
    "show_all": {
        "fr": "Voir les {count} réflexions plus anciennes",
        "en": "Show the {count} older reflections",
    },
    "col_date": {"fr": "Date", "en": "Date"},
    "col_client": {"fr": "Client", "en": "Client"},
    "col_guilt": {"fr": "Culpabilité avant → après", "en": "Guilt before → after"},
    "col_worry": {"fr": "Inquiétude avant → après", "en": "Worry before → after"},
    "open_reflection": {"fr": "Lire", "en": "Read"},
    "mood_title": {"fr": "Humeur sur 90 jours", "en": "Mood over 90 days"},
    "mood_axis": {"fr": "Humeur (1-5)", "en": "Mood (1-5)"},
    "reflection_day": {"fr": "Jour de réflexion", "en": "Reflection day"},
    "chart_as_table": {"fr": "Les mêmes données en tableau", "en": "The same data as a table"},
    "col_mood_value": {"fr": "Humeur (1-5)", "en": "Mood (1-5)"},
    "col_reflection_day": {"fr": "Réflexion ce jour-là", "en": "Reflection that day"},
    "yes": {"fr": "oui", "en": "yes"},
    "mood_chart_label": {
        "fr": "Humeur de {name} du {start} au {end} : {count} points du jour, {reflections} "
        "jours de réflexion marqués.",
        "en": "{name}'s mood from {start} to {end}: {count} check-ins, {reflections} "
        "reflection days marked.",
    },
    "sparkline_label": {
        "fr": "Humeur des 14 derniers jours : {values}",
        "en": "Mood over the last 14 days: {values}",
    },
    "reflection_title": {
        "fr": "Réflexion du {date} · {client}",
        "en": "Reflection of {date} · {client}",
    },
    "summary_title": {"fr": "Synthèse", "en": "Summary"},
    "transcript_title": {"fr": "Les échanges", "en": "The conversation"},
    "notes_title": {"fr": "Mes notes privées", "en": "My private notes"},
    "notes_help": {
        "fr": "Visibles de vous seul, jamais du manager.",
        "en": "Seen by you only, never by the manager.",
    },
    "no_notes": {"fr": "Pas encore de note.", "en": "No note yet."},
    "add_note": {"fr": "Ajouter une note", "en": "Add a note"},
    "save_note": {"fr": "Enregistrer la note", "en": "Save the note"},
    "feedback_title": {"fr": "Envoyer un retour au manager", "en": "Send feedback to the manager"},
    "feedback_label": {"fr": "Votre message au manager", "en": "Your message to the manager"},
    "feedback_help": {
        "fr": "Le bot le remet à {name} dans Telegram, signé de votre nom.",
        "en": "The bot delivers it to {name} in Telegram, signed with your name.",
    },
    "send_feedback": {"fr": "Envoyer le retour", "en": "Send the feedback"},
    "note_saved": {"fr": "Note enregistrée.", "en": "Note saved."},
    "feedback_sent": {
        "fr": "Retour enregistré : le bot va le remettre au manager.",
        "en": "Feedback recorded: the bot will deliver it to the manager.",
    },
    "empty_text": {
        "fr": "Le texte est vide : écrivez quelques mots avant d'envoyer.",
        "en": "The text is empty: write a few words before sending.",
    },
    "too_long": {
        "fr": "Le texte dépasse {limit} caractères : raccourcissez-le.",
        "en": "The text is over {limit} characters: shorten it.",
    },
    "back_to_managers": {"fr": "← Mes managers", "en": "← My managers"},
    "back_to_manager": {"fr": "← Réflexions de {name}", "en": "← {name}'s reflections"},
    "signin_title": {"fr": "Connexion", "en": "Sign in"},
    "signin_body": {
        "fr": "Cet espace est réservé aux coachs. Ouvrez-le depuis le bouton de menu du bot dans "
        "Telegram, ou envoyez /web au bot pour recevoir un lien de connexion valable 10 minutes.",
        "en": "This space is for coaches. Open it from the bot's menu button in Telegram, or "
        "send /web to the bot to get a sign-in link valid for 10 minutes.",
    },
    "login_title": {"fr": "Ouvrir l'espace coach", "en": "Open the coach's view"},
    "login_body": {
        "fr": "Ce lien ne sert qu'une fois. Votre session dure 12 heures dans ce navigateur.",
        "en": "This link works once. Your session lasts 12 hours in this browser.",
    },
    "login_button": {"fr": "Ouvrir mon espace", "en": "Open my space"},
    "link_expired": {
        "fr": "Ce lien a expiré (il vaut 10 minutes). Envoyez /web au bot pour en recevoir un "
        "nouveau.",
        "en": "This link has expired (it lasts 10 minutes). Send /web to the bot for a new one.",
    },
    "link_used": {
        "fr": "Ce lien a déjà servi (il ne vaut qu'une fois). Envoyez /web au bot pour en "
        "recevoir un nouveau.",
        "en": "This link has already been used (it works once). Send /web to the bot for a new "
        "one.",
    },
    "link_invalid": {
        "fr": "Ce lien n'est pas valable : copiez-le en entier, ou envoyez /web au bot pour en "
        "recevoir un nouveau.",
        "en": "This link is not valid: copy all of it, or send /web to the bot for a new one.",
    },
    "link_not_a_coach": {
        "fr": "Ce compte n'est plus coach sur Rebond.",
        "en": "This account is no longer a coach on Rebond.",
    },
    "refused_title": {"fr": "Lien refusé", "en": "Link refused"},
    "not_found_title": {"fr": "Introuvable", "en": "Not found"},
    "not_found": {
        "fr": "Cette page n'existe pas, ou elle ne vous est pas partagée.",
        "en": "This page does not exist, or it is not shared with you.",
    },
    "csrf_title": {"fr": "Formulaire expiré", "en": "Form expired"},
    "csrf": {
        "fr": "Ce formulaire a expiré. Rechargez la page et recommencez.",
        "en": "This form has expired. Reload the page and try again.",
    },
}


class Texts:
    """The web view's words in one language: `texts.key`, or `texts("key", name=...)`."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __getattr__(self, key: str) -> str:
        try:
            return TEXTS[key][self.lang]
        except KeyError:
            raise AttributeError(key) from None

    def __call__(self, key: str, **values: object) -> str:
        return TEXTS[key][self.lang].format(**values)

    def day(self, value: date) -> str:
        """A calendar day for a table: 26/11/2026 (Babel, bot.formatting)."""
        return short_day(value, self.lang, with_year=True)

    def moment(self, value: datetime) -> str:
        """A local date and time: 26/11/2026 09:30 (Babel, bot.formatting)."""
        return f"{self.day(value.date())} {hour_text(value, self.lang)}"
