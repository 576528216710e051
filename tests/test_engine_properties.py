"""Hypothesis: any sequence of events on the real playbook never raises and leaves a valid state."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.flows.engine import advance, ask, start
from bot.flows.loader import load_playbook
from bot.flows.model import ChoiceStep, MessageStep, MultiChoiceStep, Playbook
from bot.flows.state import (
    Amend,
    Answer,
    Ask,
    Back,
    Event,
    Pick,
    Recorded,
    Restart,
    SessionState,
    Skip,
    Submit,
    Toggle,
)
from bot.flows.validate import REQUIRED_FLOWS

from .helpers import REAL_PLAYBOOK

PLAYBOOK: Playbook = load_playbook(REAL_PLAYBOOK, REQUIRED_FLOWS)
OPTION_IDS = sorted(
    {
        option.id
        for flow in PLAYBOOK.flows.values()
        for step in flow.steps
        if isinstance(step, ChoiceStep | MultiChoiceStep)
        for option in step.options
    }
)

texts = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["1", "2", "10", "-1", "oui", "no", "1, 3", "7/10", "3,5", "", "épuisé"]),
    st.text(min_size=1500, max_size=1600),
    st.just("9" * 5000),
)
options = st.one_of(
    st.sampled_from(
        [*OPTION_IDS, "yes", "no", "z0", "z5", "z9", "0900", "2500", *map(str, range(-1, 12))]
    ),
    st.text(max_size=70),
)
events: st.SearchStrategy[Event] = st.one_of(
    st.builds(Answer, texts),
    st.builds(Pick, options),
    st.builds(Toggle, options),
    st.just(Submit()),
    st.just(Back()),
    st.just(Skip()),
    st.just(Restart()),
    st.builds(Amend, st.sampled_from(["client", "guilt_first", "mood", "nope"]), texts),
)


def assert_valid(state: SessionState) -> None:
    """The invariants every stored state keeps."""
    assert SessionState.model_validate_json(state.model_dump_json()) == state
    flow = PLAYBOOK.flows[state.flow]
    assert all(not isinstance(flow.step_by_id[s], MessageStep) for s in state.history)
    assert set(state.answers) <= {*state.history, state.step}
    if state.step is None:
        assert state.selection == ()
        return
    step = flow.step_by_id[state.step]
    assert not isinstance(step, MessageStep)
    if isinstance(step, MultiChoiceStep):
        assert set(state.selection) <= {option.id for option in step.options}
    else:
        assert state.selection == ()
    assert isinstance(ask(PLAYBOOK, state), Ask)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    flow=st.sampled_from(REQUIRED_FLOWS),
    lang=st.sampled_from(["fr", "en"]),
    sequence=st.lists(events, max_size=60),
)
def test_random_events_never_raise_and_keep_the_state_valid(flow, lang, sequence):
    state, _ = start(PLAYBOOK, flow, lang)
    assert_valid(state)
    for event in sequence:
        before = state
        state, outputs = advance(PLAYBOOK, state, event)
        assert_valid(state)
        assert state.turn >= before.turn
        recorded = [output for output in outputs if isinstance(output, Recorded)]
        assert len(recorded) <= 1
        if recorded:
            assert state.history[-1] == recorded[0].step
