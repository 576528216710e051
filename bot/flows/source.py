"""YAML text -> plain Python data, remembering where every key and value stands in the file.

PyYAML's default loader forgets positions, silently keeps the last of two equal keys and reads
`no`, `on` or `Non` as booleans. This reader composes the node tree itself so that every later
error can name `file:line:col`, duplicate keys are reported, and only `true`/`false` are booleans.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Position:
    """A 1-based line and column in the source file."""

    line: int
    col: int


@dataclass(frozen=True)
class SourceIssue:
    """A problem found while reading: where it is and what it says."""

    position: Position
    path: str
    message: str


@dataclass
class SourceMap:
    """Positions of every value (and of every mapping key) by its path in the data."""

    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def locate(self, path: Path) -> Position:
        """Position of the deepest part of `path` present in the file."""
        for length in range(len(path), -1, -1):
            prefix = path[:length]
            if prefix in self.values:
                return self.values[prefix]
        return Position(1, 1)

    def locate_key(self, path: Path) -> Position:
        """Position of the key that holds `path`, else of its value."""
        return self.keys.get(path) or self.locate(path)


# libyaml's parser when PyYAML has it (about ten times faster), else the pure-Python one.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictBoolLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """A safe loader where only true/false (any case) are booleans, as in YAML 1.2."""


_StrictBoolLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictBoolLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _position(mark: yaml.Mark) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _describe(path: Path) -> str:
    return ".".join(str(part) for part in path) or "(top level)"


def read_yaml(text: str) -> tuple[Any, SourceMap, list[SourceIssue]]:
    """Parse YAML text into data and positions; syntax errors and duplicate keys are issues."""
    source_map = SourceMap()
    issues: list[SourceIssue] = []
    loader = _StrictBoolLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        position = _position(mark) if mark else Position(1, 1)
        problem = error.problem or "invalid YAML"
        hint = f" ({error.context})" if error.context else ""
        issues.append(
            SourceIssue(position, "yaml", f"{problem}{hint}; check the indentation and quoting")
        )
        return None, source_map, issues
    except yaml.YAMLError as error:
        issues.append(SourceIssue(Position(1, 1), "yaml", f"cannot read the file: {error}"))
        return None, source_map, issues
    if root is None:
        loader.dispose()
        return None, source_map, issues

    def build(node: yaml.Node, path: Path) -> Any:
        source_map.values[path] = _position(node.start_mark)
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            first_seen: dict[Any, Position] = {}
            for key_node, value_node in node.value:
                key = build_scalar_key(key_node, path)
                key_position = _position(key_node.start_mark)
                if key in first_seen:
                    where = first_seen[key]
                    issues.append(
                        SourceIssue(
                            key_position,
                            _describe((*path, key)),
                            f"duplicate key '{key}' (first defined at line {where.line}); "
                            "keep only one",
                        )
                    )
                    continue
                first_seen[key] = key_position
                source_map.keys[(*path, key)] = key_position
                result[key] = build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, index)) for index, item in enumerate(node.value)]
        return loader.construct_object(node, deep=True)

    def build_scalar_key(node: yaml.Node, path: Path) -> Any:
        if isinstance(node, yaml.ScalarNode):
            return loader.construct_object(node, deep=True)
        issues.append(
            SourceIssue(_position(node.start_mark), _describe(path), "a key must be a plain word")
        )
        return f"<key at line {node.start_mark.line + 1}>"

    try:
        data = build(root, ())
    except yaml.YAMLError as error:
        issues.append(SourceIssue(Position(1, 1), "yaml", f"cannot read a value: {error}"))
        data = None
    finally:
        loader.dispose()
    return data, source_map, issues
