"""Every manager meets every idea of the coaching article, in our own words (issue #15).

The source of truth is the table "Article idea -> step ids" in docs/playbook.md: its second
column names the steps where each idea lives, its third says which paths of the reflection reach
each of those steps. These tests walk every path of `lost_client` with the real engine and check
the table against them, then check the texts against the article itself.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import pytest

from bot.flows.analysis import all_texts, flow_texts, graph, reachable_from
from bot.flows.conditions import branch_conditions, holds, next_targets, referenced_steps
from bot.flows.engine import advance, start
from bot.flows.loader import load_playbook
from bot.flows.model import Condition, Flow, MessageStep, Playbook, TextStep
from bot.flows.state import Answer, Ask, Invalid, Pick, Say, SessionState
from bot.flows.validate import REQUIRED_FLOWS
from tools.article_runs import fingerprint, runs

from .helpers import REAL_PLAYBOOK, ROOT
from .test_playbook_content import assert_rendered, candidate_events, taken_edges

REFLECTION = "lost_client"
DOC = ROOT / "docs" / "playbook.md"
# Fingerprints of the article's runs of words (tools/article_runs.py): its text stays out of the repo.
ARTICLE_RUNS = ROOT / "tests" / "data" / "article-runs.txt"
TABLE_HEADING = "## Article idea -> step ids"
EVERY_PATH = "every path"


@pytest.fixture(scope="module")
def playbook() -> Playbook:
    return load_playbook(REAL_PLAYBOOK, REQUIRED_FLOWS)


# --- every path of the reflection ------------------------------------------------------------


def condition_leaves(flow: Flow) -> dict[str, list[tuple[str, Condition]]]:
    """For each step, the comparisons of its answer that branches make, with the branching step."""
    leaves: dict[str, list[tuple[str, Condition]]] = defaultdict(list)
    for step in flow.steps:
        for _, arm in branch_conditions(step.next):
            for name, leaf in referenced_steps(arm.when):
                leaves[name].append((step.id, leaf))
    return leaves


def reflection_paths(playbook: Playbook, lang: str = "fr") -> list[tuple[str, ...]]:
    """Every distinct sequence of steps (questions and messages) a manager can go through.

    The engine is driven with answers that, between them, take every branch. Two answers to a
    question lead to the same futures when they go to the same next steps and make every later
    condition come out the same, so each (step, outcomes of conditions so far) is explored once.
    """
    flow = playbook.flows[REFLECTION]
    leaves = condition_leaves(flow)
    edges = graph(flow)
    ahead = {step.id: reachable_from(edges, step.id) for step in flow.steps}
    explored: dict[tuple[str, frozenset], set[tuple[str, ...]]] = {}

    def futures(state: SessionState, outcomes: frozenset) -> set[tuple[str, ...]]:
        if state.done:
            return {()}
        # outcomes only matter while a branch that reads them is still ahead
        key = (state.step, frozenset(o for o in outcomes if o[0] in ahead[state.step]))
        if key in explored:
            return explored[key]
        step = flow.step_by_id[state.step]
        found: set[tuple[str, ...]] = set()
        seen: set[tuple] = set()
        for event in candidate_events(step):
            after, outputs = advance(playbook, state, event)
            assert not any(isinstance(o, Invalid) for o in outputs), (step.id, event, outputs)
            assert_rendered(outputs)
            answer = {step.id: after.answers.get(step.id)}
            now = outcomes | {
                (owner, step.id, index, holds(leaf, answer))
                for index, (owner, leaf) in enumerate(leaves[step.id])
            }
            shown = tuple(source for source, _ in taken_edges(flow, after, step.id))
            if (shown, now) in seen:
                continue
            seen.add((shown, now))
            found.update(shown + rest for rest in futures(after, frozenset(now)))
        explored[key] = found
        return found

    state, outputs = start(playbook, REFLECTION, lang)
    assert_rendered(outputs)
    first = flow.step_by_id[flow.first_step]
    opening: tuple[str, ...] = ()
    if isinstance(first, MessageStep):
        opening = tuple(source for source, _ in taken_edges(flow, state, first.id))
    return sorted(opening + rest for rest in futures(state, frozenset()))


@cache
def cached_paths() -> tuple[tuple[str, ...], ...]:
    return tuple(reflection_paths(load_playbook(REAL_PLAYBOOK, REQUIRED_FLOWS)))


def branch_taken(flow: Flow, path: tuple[str, ...]) -> set[tuple[str, str]]:
    """The (step, next step) pairs of a path at steps whose `next` has conditions."""
    branching = {step.id for step in flow.steps if isinstance(step.next, list)}
    return {(a, b) for a, b in pairwise(path) if a in branching}


def reach_label(flow: Flow, paths: tuple[tuple[str, ...], ...], step_id: str) -> str:
    """Which paths reach a step, in words: 'every path', or the branch that leads there."""
    reaching = {index for index, path in enumerate(paths) if step_id in path}
    if len(reaching) == len(paths):
        return EVERY_PATH
    taken = [branch_taken(flow, path) for path in paths]
    order = {step.id: index for index, step in enumerate(flow.steps)}
    by_arm: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
    for index, arms in enumerate(taken):
        for source, target in arms:
            by_arm[source][target].add(index)
    candidates = []
    for source, arms in by_arm.items():
        chosen = {t for t, through in arms.items() if through <= reaching}
        covered = set().union(*(arms[t] for t in chosen)) if chosen else set()
        if covered == reaching:
            candidates.append((len(chosen), order[source], source, sorted(chosen, key=order.get)))
    assert candidates, f"no single branch explains which paths reach '{step_id}'"
    _, _, source, targets = min(candidates)
    return f"`{source}` → " + " or ".join(f"`{t}`" for t in targets)


# --- the table of ideas in docs/playbook.md --------------------------------------------------


@dataclass(frozen=True)
class Idea:
    name: str
    steps: tuple[tuple[str, str], ...]
    """(flow, step) pairs, as written in the second column."""
    reach: dict[str, str]
    """Step id of the reflection -> the third column's words for the paths that reach it."""


def ideas_table() -> list[Idea]:
    """The rows of the table "Article idea -> step ids" of docs/playbook.md."""
    doc = DOC.read_text(encoding="utf-8")
    table = doc[doc.index(TABLE_HEADING) :]
    table = table[: table.index("\n## ")]
    lines = [line for line in table.splitlines() if line.startswith("|")]
    rows = [line for line in lines[1:] if not line.startswith("|-")]  # after heads and rule
    ideas = []
    for row in rows:
        cells = [cell.strip() for cell in row.strip().strip("|").split(" | ")]
        assert len(cells) == 3, f"a row of the table has {len(cells)} cells: {row}"
        steps = tuple(re.findall(r"`([a-z_]+)\.([a-z0-9_]+)`", cells[1]))
        reach = {}
        for part in cells[2].split("; "):
            match = re.fullmatch(r"`([a-z0-9_]+)`: (.+)", part)
            assert match, f"'{part}' should read `step`: which paths (in: {cells[0]})"
            reach[match.group(1)] = match.group(2)
        ideas.append(Idea(cells[0], steps, reach))
    return ideas


def test_the_table_names_steps_that_exist_and_every_idea_lives_in_the_reflection(playbook):
    ideas = ideas_table()
    assert len(ideas) >= 15
    assert ideas[0].name == "Financial dependence on one big client"  # the first row is read
    for idea in ideas:
        missing = [
            f"{flow}.{step}"
            for flow, step in idea.steps
            if flow not in playbook.flows or step not in playbook.flows[flow].step_by_id
        ]
        assert missing == [], idea.name
        assert any(flow == REFLECTION for flow, _ in idea.steps), idea.name


def test_the_table_says_which_paths_reach_each_step(playbook):
    flow = playbook.flows[REFLECTION]
    paths = cached_paths()
    for idea in ideas_table():
        expected = {
            step: reach_label(flow, paths, step)
            for owner, step in idea.steps
            if owner == REFLECTION
        }
        written = "; ".join(f"`{step}`: {label}" for step, label in expected.items())
        assert idea.reach == expected, f"{idea.name}: the third column should read\n{written}"


def test_every_idea_of_the_table_is_met_on_every_path_of_the_reflection():
    paths = cached_paths()
    assert len(paths) >= 100  # the branches multiply; a collapse would mean a lost branch
    unmet = []
    for idea in ideas_table():
        steps = {step for flow, step in idea.steps if flow == REFLECTION}
        for path in paths:
            if not steps & set(path):
                unmet.append(f"{idea.name}: not met on {' > '.join(path)}")
                break
    assert unmet == []


def test_the_walk_takes_every_arm_of_every_branch_and_lists_each_path_once(playbook):
    paths = cached_paths()
    assert len(set(paths)) == len(paths)
    assert tuple(reflection_paths(playbook, "en")) == paths  # English texts render on each too
    flow = playbook.flows[REFLECTION]
    taken = set().union(*(branch_taken(flow, path) for path in paths))
    every_arm = {
        (step.id, target)
        for step in flow.steps
        if isinstance(step.next, list)
        for target in next_targets(step.next)
    }
    assert taken == every_arm


# --- what the paths say ------------------------------------------------------------------------


def walk_with(playbook: Playbook, answers: dict[str, str], lang: str = "fr") -> list[str]:
    """The texts a manager reads when answering as given (else with each question's first answer)."""
    flow = playbook.flows[REFLECTION]
    state, outputs = start(playbook, REFLECTION, lang)
    said = [o.text for o in outputs if isinstance(o, Say)]
    while not state.done:
        step = flow.step_by_id[state.step]
        wanted = answers.get(step.id)
        if wanted is None:
            event = candidate_events(step)[0]
        elif isinstance(step, TextStep) or step.type in ("number", "multi_choice"):
            event = Answer(wanted)
        else:
            event = Pick(wanted)
        state, outputs = advance(playbook, state, event)
        assert not any(isinstance(o, Invalid) for o in outputs), (step.id, outputs)
        said += [o.text for o in outputs if isinstance(o, Say)]
        said += [o.prompt for o in outputs if isinstance(o, Ask)]
    return said


def test_a_manager_attached_to_nothing_does_not_hear_that_the_loss_must_hurt(playbook):
    said = "\n".join(walk_with(playbook, {"dependence_financial": "0", "dependence_story": "6"}))
    assert "vous touche" not in said
    assert "pesait assez peu" in said


def test_a_manager_with_no_other_client_is_not_told_that_others_stay(playbook):
    said = "\n".join(
        walk_with(playbook, {"guilt_first": "our_fault", "other_clients_stayed": "0"}, "en")
    )
    assert "Other clients are staying" not in said
    assert "With no other client at the moment" in said


def test_a_manager_who_already_asked_why_is_asked_what_they_learned_then_how_to_keep_in_touch(
    playbook,
):
    said = walk_with(playbook, {"asked_why": "yes"}, "en")
    learned = said.index("What did you learn from their answer?")
    keep = next(i for i, text in enumerate(said) if text.startswith("How could you stay in touch"))
    assert learned < keep
    assert not any("How could you ask" in text for text in said)


def test_the_room_freed_is_the_managers_own_and_follows_the_loss(playbook):
    said = walk_with(playbook, {"freed_capacity": "1, 2"}, "en")
    loss = next(i for i, text in enumerate(said) if "is still a loss" in text)
    room = next(i for i, text in enumerate(said) if "you have just named it" in text)
    assert loss < room
    assert "“Time, People”" in said[room]


def test_no_text_repeats_an_answer_back_without_saying_what_it_means(playbook):
    repeated = [
        path
        for path, text in all_texts(playbook)
        if re.match(r"(Vous avez répondu|You answered)\b", text.fr) or "You answered" in text.en
    ]
    assert repeated == []


# --- our own words --------------------------------------------------------------------------


def article_runs() -> set[str]:
    """The fingerprints of the article's runs of words, its headings left out."""
    return set(ARTICLE_RUNS.read_text(encoding="utf-8").split())


def test_the_runs_of_words_catch_a_pasted_sentence():
    assert fingerprint(("dans", "le", "cas", "present", "le", "client")) in article_runs()
    pasted = "Gilles remarque d'ailleurs que tous les clients ne partent pas"
    assert {fingerprint(run) for run in runs(pasted)} & article_runs()


def test_no_playbook_text_shares_six_words_in_a_row_with_the_article(playbook):
    article = article_runs()
    shared = [
        f"{'.'.join(map(str, path))}: {' '.join(run)}"
        for path, text in all_texts(playbook)
        for run in sorted(runs(text.fr))
        if fingerprint(run) in article
    ]
    assert shared == []


# --- French and English without slips -------------------------------------------------------


def sentence_answers(flow: Flow) -> set[str]:
    """Questions whose answer is typed as a sentence and may end with its own full stop."""
    return {step.id for step in flow.steps if isinstance(step, TextStep) and step.max_length > 80}


@pytest.mark.parametrize("flow_id", sorted(load_playbook(REAL_PLAYBOOK).flows))
def test_a_typed_sentence_is_never_followed_by_our_own_punctuation(playbook, flow_id):
    """A sentence ending in its own full stop once read "appeler Paul.. Voici": quote it in « »."""
    flow = playbook.flows[flow_id]
    typed = sentence_answers(flow)
    doubled = []
    for path, text in flow_texts(flow_id, flow):
        for lang in ("fr", "en"):
            for match in re.finditer(r"\{([a-z0-9_]+)\}\s*([.,;:!?])", text.get(lang)):
                if match.group(1) in typed:
                    doubled.append(f"{'.'.join(map(str, path))}.{lang}: {match.group(0)}")
    assert doubled == []


GENDERED = re.compile(
    r"\bvous (?:vous )?(?:êtes|étiez|serez|seriez|sera) (?:\w+ )?\w+(?:é|i|u|s|t)\b"
    r"|\bvous a (?:\w+ )?(?:retenu|surpris|déçu|touché|blessé|épuisé|prévenu)\b",
    re.IGNORECASE,
)
"""Past participles and adjectives agreeing with "vous": they take a side on the reader's gender."""


@pytest.mark.parametrize(
    "slip",
    [
        "Nous reprenons là où vous vous étiez arrêté.",
        "Pensez à un client qui vous a agréablement surpris.",
        "Qu'est-ce qui vous a retenu ?",
        "Vous serez prévenu quand un manager termine une réflexion.",
    ],
)
def test_the_gender_check_catches_the_slips_we_had(slip):
    assert GENDERED.search(slip)


def test_no_french_text_assumes_the_readers_gender(playbook):
    """Neither the manager's nor the coach's gender is known."""
    found = [
        f"{'.'.join(map(str, path))}: {match.group(0)}"
        for path, text in all_texts(playbook)
        for match in GENDERED.finditer(text.fr)
    ]
    assert found == []
