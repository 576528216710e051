"""A Mermaid flowchart of a flow, drawn from its declaration (never by hand)."""

from __future__ import annotations

from .model import (
    END,
    AllOf,
    AnyOf,
    AtLeast,
    AtMost,
    Condition,
    DefaultBranch,
    Equals,
    Flow,
    Lang,
    Next,
)


def mermaid(flow_id: str, flow: Flow, lang: Lang = "en") -> str:
    """The flow as a Mermaid `flowchart`: sections as subgraphs, conditions on the edges."""
    lines = [
        "flowchart TD",
        f"  start(({_quote(flow.title.get(lang))})) --> {_node(flow.first_step)}",
    ]
    for index, section in enumerate(flow.sections, start=1):
        title = _quote(f"{index}. {section.title.get(lang)}")
        lines.append(f"  subgraph {section.id}_section[{title}]")
        for step in section.steps:
            shape = f"[/{_quote(step.id)}/]" if step.type == "message" else f"[{_quote(step.id)}]"
            lines.append(f"    {_node(step.id)}{shape}")
        lines.append("  end")
    for step in flow.steps:
        lines.extend(_edges(step.id, step.next, flow.default_next[step.id]))
    lines.append(f"  {_node(END)}((end))")
    return "\n".join(lines) + "\n"


def describe(condition: Condition) -> str:
    """A condition in short words: `guilt_first = our_fault or guilt_before ≥ 7`."""
    if isinstance(condition, Equals):
        return " and ".join(f"{step} = {_value(v)}" for step, v in condition.equals.items())
    if isinstance(condition, AtLeast):
        return " and ".join(f"{step} ≥ {_value(v)}" for step, v in condition.at_least.items())
    if isinstance(condition, AtMost):
        return " and ".join(f"{step} ≤ {_value(v)}" for step, v in condition.at_most.items())
    if isinstance(condition, AnyOf):
        return " or ".join(_grouped(inner) for inner in condition.any)
    if isinstance(condition, AllOf):
        return " and ".join(_grouped(inner) for inner in condition.all)
    return " and ".join(
        f"{step} in {', '.join(_value(v) for v in values)}"
        for step, values in condition.in_.items()
    )


def _edges(step_id: str, next_: Next | None, default: str) -> list[str]:
    source = _node(step_id)
    if next_ is None:
        return [f"  {source} --> {_node(default)}"]
    if isinstance(next_, str):
        return [f"  {source} --> {_node(next_)}"]
    edges = []
    for arm in next_:
        if isinstance(arm, DefaultBranch):
            edges.append(f"  {source} -- otherwise --> {_node(arm.default)}")
        else:
            edges.append(f"  {source} -- {_quote(describe(arm.when))} --> {_node(arm.goto)}")
    return edges


def _grouped(condition: Condition) -> str:
    text = describe(condition)
    return f"({text})" if isinstance(condition, AnyOf | AllOf) else text


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _node(step_id: str) -> str:
    # Mermaid reserves `end`; suffixing every id keeps step names free.
    return f"{step_id}_"


def _quote(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'
