"""Loading a playbook in three stages: YAML with positions, typed models, semantic rules.

Every problem of every stage is reported at once, each as
`content/playbook.yaml:LINE:COL: flows.lost_client.steps.guilt_first.next: <what> (<fix>)`.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import model as models
from .model import Playbook
from .source import Position, SourceMap, read_yaml
from .validate import PathT, validate


@dataclass(frozen=True)
class PlaybookIssue:
    """One problem in a playbook file, located and explained."""

    source: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}:{self.col}: {self.path}: {self.message}"


class PlaybookError(Exception):
    """A playbook that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[PlaybookIssue]) -> None:
        self.issues = sorted(issues, key=lambda issue: (issue.line, issue.col))
        super().__init__("\n".join(str(issue) for issue in self.issues))


def content_version(text: str) -> str:
    """The version of a playbook: a short hash of its exact text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_source(path: str | Path) -> str:
    """The text of a playbook file (PlaybookError, located at the file, if it cannot be read)."""
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        message = "no such file; check REBOND_PLAYBOOK or the path"
        raise PlaybookError([PlaybookIssue(source, 1, 1, "file", message)]) from None
    except (OSError, UnicodeDecodeError) as error:
        issue = PlaybookIssue(source, 1, 1, "file", f"cannot read it: {error}")
        raise PlaybookError([issue]) from None


def load_playbook(path: str | Path, required_flows: Iterable[str] = ()) -> Playbook:
    """Read, check and return the playbook at `path` (PlaybookError lists all problems)."""
    return parse_playbook(read_source(path), str(path), required_flows)


def parse_playbook(
    text: str, source: str = "<playbook>", required_flows: Iterable[str] = ()
) -> Playbook:
    """Check playbook YAML text and return the typed playbook, versioned by its content."""
    data, positions, read_issues = read_yaml(text)
    issues = [
        PlaybookIssue(source, i.position.line, i.position.col, i.path, i.message)
        for i in read_issues
    ]
    if data is None and not issues:
        issues.append(PlaybookIssue(source, 1, 1, "(top level)", "the file is empty"))
    if issues and data is None:
        raise PlaybookError(issues)
    if not isinstance(data, dict):
        raise PlaybookError(
            [*issues, _issue(source, positions, data, (), "the top level must be a mapping")]
        )
    if "version" in data:
        message = "the version is computed from the file's content; remove this key"
        raise PlaybookError([*issues, _issue(source, positions, data, ("version",), message)])
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as error:
        issues.extend(_schema_issues(source, positions, data, error))
        raise PlaybookError(issues) from None
    for problem in validate(playbook, required_flows):
        issues.append(_issue(source, positions, data, problem.path, problem.message))
    if issues:
        raise PlaybookError(issues)
    return playbook.model_copy(update={"version": content_version(text)})


# --- locating problems -------------------------------------------------------------------------


def physical_path(data: Any, logical: PathT) -> PathT:
    """The path in the file for a path that may use ids (`steps.<id>`) instead of positions."""
    result: list[str | int] = []
    node = data
    parts = list(logical)
    index = 0
    while index < len(parts):
        part = parts[index]
        if (
            part == "steps"
            and isinstance(node, dict)
            and "steps" not in node
            and isinstance(node.get("sections"), list)
            and index + 1 < len(parts)
        ):
            found = _find_step(node["sections"], parts[index + 1])
            if found is None:
                break
            s_index, t_index, node = found
            result += ["sections", s_index, "steps", t_index]
            index += 2
            continue
        if isinstance(node, list):
            position = part if isinstance(part, int) else _index_of_id(node, part)
            if position is None or not 0 <= position < len(node):
                break
            result.append(position)
            node = node[position]
        elif isinstance(node, dict) and part in node:
            result.append(part)
            node = node[part]
        else:
            break
        index += 1
    return (*result, *parts[index:])


def logical_path(data: Any, physical: PathT) -> str:
    """A readable path: list items with an id are named by it, steps under their flow."""
    shown: list[str] = []
    node = data
    for position, part in enumerate(physical):
        child = None
        if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            child = node[part]
            item_id = child.get("id") if isinstance(child, dict) else None
            shown.append(str(item_id) if isinstance(item_id, str) and item_id else str(part))
        elif isinstance(node, dict):
            child = node.get(part)
            if part == "steps" and position >= 4 and shown[-2:-1] == ["sections"]:
                shown = shown[:-2]  # steps read as flows.<flow>.steps.<id>
            shown.append(str(part))
        else:
            shown.append(str(part))
        node = child
    return ".".join(shown) or "(top level)"


def _find_step(sections: list[Any], step_id: Any) -> tuple[int, int, Any] | None:
    for s_index, section in enumerate(sections):
        steps = section.get("steps") if isinstance(section, dict) else None
        if isinstance(steps, list):
            position = _index_of_id(steps, step_id)
            if position is not None:
                return s_index, position, steps[position]
    return None


def _index_of_id(items: list[Any], item_id: Any) -> int | None:
    for position, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") == item_id:
            return position
    return None


def _issue(
    source: str, positions: SourceMap, data: Any, path: PathT, message: str
) -> PlaybookIssue:
    physical = physical_path(data, path)
    where: Position = positions.locate(physical)
    return PlaybookIssue(source, where.line, where.col, logical_path(data, physical), message)


# --- schema errors in plain words --------------------------------------------------------------


def _known_field_names() -> list[str]:
    names: set[str] = set()
    for candidate in vars(models).values():
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            for name, field in candidate.model_fields.items():
                names.add(field.alias or name)
    return sorted(names)


_FIELD_NAMES = _known_field_names()
_KIND_WORDS = {
    "string_type": "a text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "dict_type": "a mapping (key: value lines)",
    "list_type": "a list ('- ' items)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _schema_issues(
    source: str, positions: SourceMap, data: Any, error: ValidationError
) -> list[PlaybookIssue]:
    issues = []
    for detail in error.errors(include_url=False):
        names_field = detail["type"] in ("missing", "extra_forbidden")
        physical = _walk_error_location(data, tuple(detail["loc"]), names_field)
        message = _explain(detail, physical)
        if detail["type"] == "extra_forbidden":
            where = positions.locate_key(physical)
        else:
            where = positions.locate(physical)
        issues.append(
            PlaybookIssue(source, where.line, where.col, logical_path(data, physical), message)
        )
    return issues


def _walk_error_location(data: Any, loc: tuple[Any, ...], names_field: bool) -> PathT:
    """Keep the parts of a pydantic location that exist in the data (drop union tags).

    With `names_field`, a last part missing from the data is kept: it is the missing field.
    """
    path: list[str | int] = []
    node = data
    for position, part in enumerate(loc):
        last = position == len(loc) - 1
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            path.append(part)
            node = node[part]
        elif (
            isinstance(node, dict)
            and isinstance(part, str)
            and part.isdigit()
            and int(part) in node
        ):
            path.append(int(part))
            node = node[int(part)]
        elif last and names_field and isinstance(node, dict):
            path.append(part)  # a missing field: name it after its parent
    return tuple(path)


def _explain(detail: Any, physical: PathT) -> str:
    kind = detail["type"]
    context = detail.get("ctx") or {}
    field = str(physical[-1]) if physical else ""
    if kind == "missing":
        return f"missing '{field}'; add it"
    if kind == "extra_forbidden":
        return f"unknown field '{field}'{_close_field(field)}; remove or rename it"
    if kind == "union_tag_not_found":
        return "missing 'type'; add 'type: <message|text|choice|multi_choice|scale|yes_no|number>'"
    if kind == "union_tag_invalid":
        expected = context.get("expected_tags", "")
        return f"unknown type '{context.get('tag')}'; use one of: {expected}"
    if kind in _KIND_WORDS:
        return f"expected {_KIND_WORDS[kind]}, found {_shown(detail.get('input'))}"
    return str(detail["msg"])


def _close_field(name: str) -> str:
    others = [field for field in _FIELD_NAMES if field != name]  # known elsewhere, not here
    close = difflib.get_close_matches(name, others, n=1, cutoff=0.7)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)
