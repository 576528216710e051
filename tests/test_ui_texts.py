"""`ui.in_(lang)`: the UI texts in one language, field by field, typed."""

from __future__ import annotations

from bot.flows.loader import load_playbook
from bot.flows.model import LANGUAGES, Localized

from .helpers import REAL_PLAYBOOK


def test_every_ui_text_reads_the_same_through_the_language_view():
    ui = load_playbook(REAL_PLAYBOOK).ui
    for lang in LANGUAGES:
        view = ui.in_(lang)
        for name, value in ui:
            if isinstance(value, Localized):
                assert getattr(view, name) == value.get(lang), name
            else:
                assert getattr(view, name) == {k: t.get(lang) for k, t in value.items()}, name
    assert ui.in_("fr").yes != ui.in_("en").yes


def test_the_view_is_built_once_per_language():
    ui = load_playbook(REAL_PLAYBOOK).ui
    assert ui.in_("en") is ui.in_("en")
