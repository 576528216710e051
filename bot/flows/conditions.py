"""Evaluating `when` conditions against the answers given so far."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .model import (
    END,
    AllOf,
    AnswerValue,
    AnyOf,
    AtLeast,
    AtMost,
    Branch,
    Condition,
    DefaultBranch,
    Equals,
    Flow,
    In,
    Next,
    Scalar,
    Step,
)


def holds(condition: Condition, answers: Mapping[str, AnswerValue]) -> bool:
    """True when the condition is met; a missing or skipped answer meets no comparison."""
    if isinstance(condition, Equals):
        return all(_matches(answers.get(step), [value]) for step, value in condition.equals.items())
    if isinstance(condition, In):
        return all(_matches(answers.get(step), values) for step, values in condition.in_.items())
    if isinstance(condition, AtLeast):
        return all(
            _number(answers.get(step)) >= bound for step, bound in condition.at_least.items()
        )
    if isinstance(condition, AtMost):
        return all(_number(answers.get(step)) <= bound for step, bound in condition.at_most.items())
    if isinstance(condition, AnyOf):
        return any(holds(inner, answers) for inner in condition.any)
    return all(holds(inner, answers) for inner in condition.all)


def next_step(flow: Flow, step: Step, answers: Mapping[str, AnswerValue]) -> str:
    """Where the flow goes after `step`, given the answers: a step id or END."""
    if step.next is None:
        return flow.default_next[step.id]
    return choose(step.next, answers)


def choose(next_: Next, answers: Mapping[str, AnswerValue]) -> str:
    """The target of a `next`: itself, or the first arm whose condition holds, else the default."""
    if isinstance(next_, str):
        return next_
    for arm in next_:
        if isinstance(arm, DefaultBranch):
            return arm.default
        if holds(arm.when, answers):
            return arm.goto
    return END  # unreachable in a validated playbook: every list ends with a default


def next_targets(next_: Next) -> list[str]:
    """Every target a `next` may lead to."""
    if isinstance(next_, str):
        return [next_]
    return [arm.default if isinstance(arm, DefaultBranch) else arm.goto for arm in next_]


def targets(flow: Flow, step: Step) -> list[str]:
    """Every step id (or END) that `step` may lead to."""
    if step.next is None:
        return [flow.default_next[step.id]]
    return next_targets(step.next)


def referenced_steps(condition: Condition) -> Iterator[tuple[str, Condition]]:
    """Each (step id, leaf condition) a condition compares."""
    if isinstance(condition, AnyOf | AllOf):
        for inner in condition.any if isinstance(condition, AnyOf) else condition.all:
            yield from referenced_steps(inner)
        return
    mapping: Mapping[str, object]
    if isinstance(condition, Equals):
        mapping = condition.equals
    elif isinstance(condition, In):
        mapping = condition.in_
    elif isinstance(condition, AtLeast):
        mapping = condition.at_least
    else:
        mapping = condition.at_most
    for step_id in mapping:
        yield step_id, condition


def branch_conditions(next_: Next | None) -> Iterator[tuple[int, Branch]]:
    """Each conditional arm of a `next`, with its position."""
    if isinstance(next_, list):
        for index, arm in enumerate(next_):
            if isinstance(arm, Branch):
                yield index, arm


def _matches(answer: AnswerValue, values: list[Scalar]) -> bool:
    if answer is None:
        return False
    if isinstance(answer, list):
        return any(value in answer for value in values)
    # bool is an int in Python: compare yes/no answers only with booleans
    if isinstance(answer, bool):
        return any(isinstance(value, bool) and value == answer for value in values)
    return any(not isinstance(value, bool) and value == answer for value in values)


def _number(answer: AnswerValue) -> float:
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        return float(answer)
    return float("nan")  # every comparison with NaN is False
