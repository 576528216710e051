"""The engine's automatic-step limit raises instead of quietly finishing the flow."""

from __future__ import annotations

import pytest

from bot.flows import engine
from bot.flows.engine import AutomaticStepLimit, advance, start
from bot.flows.state import Amend, Answer

MESSAGES_THEN_QUESTIONS = """
talk:
  title: {fr: Parler, en: Talk}
  sections:
    - id: one
      title: {fr: Un, en: One}
      steps:
        - {id: m1, type: message, text: {fr: "Un", en: "One"}}
        - {id: m2, type: message, text: {fr: "Deux", en: "Two"}}
        - {id: m3, type: message, text: {fr: "Trois", en: "Three"}}
        - {id: q1, type: text, prompt: {fr: "Quoi ?", en: "What?"}}
        - {id: m4, type: message, text: {fr: "Quatre", en: "Four"}}
        - {id: m5, type: message, text: {fr: "Cinq", en: "Five"}}
        - {id: m6, type: message, text: {fr: "Six", en: "Six"}}
        - {id: q2, type: text, prompt: {fr: "Et ?", en: "And?"}}
"""


def test_within_the_limit_the_messages_lead_to_the_question(make_playbook):
    state, outputs = start(make_playbook(MESSAGES_THEN_QUESTIONS), "talk", "en")
    assert state.step == "q1"
    assert len(outputs) == 4


def test_past_the_limit_start_raises_rather_than_ending_the_flow(make_playbook, monkeypatch):
    playbook = make_playbook(MESSAGES_THEN_QUESTIONS)
    monkeypatch.setattr(engine, "MAX_AUTOMATIC_STEPS", 2)
    with pytest.raises(AutomaticStepLimit, match="flow 'talk': more than 2 message steps"):
        start(playbook, "talk", "en")


def test_past_the_limit_amending_raises_too(make_playbook, monkeypatch):
    playbook = make_playbook(MESSAGES_THEN_QUESTIONS)
    state, _ = start(playbook, "talk", "en")
    state, _ = advance(playbook, state, Answer("first"))
    assert state.step == "q2"
    monkeypatch.setattr(engine, "MAX_AUTOMATIC_STEPS", 2)
    with pytest.raises(AutomaticStepLimit):
        advance(playbook, state, Amend("q1", "changed"))
