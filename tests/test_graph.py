"""The dependency-graph helpers against their definitions, on random graphs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from collectstatic.graph import is_cyclic, levels, strongly_connected

_GRAPHS = st.dictionaries(st.integers(0, 9), st.lists(st.integers(0, 9), max_size=4),
                          max_size=10)


def named(graph: dict[int, list[int]]) -> tuple[list[str], dict[str, list[str]]]:
    nodes = [f"n{node}" for node in sorted(graph)]
    edges = {f"n{node}": [f"n{t}" for t in targets if t in graph]
             for node, targets in graph.items()}
    return nodes, edges


def reach(edges: dict[str, list[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in edges[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


@settings(max_examples=300, deadline=None)
@given(_GRAPHS)
def test_strongly_connected_components_targets_first(graph: dict[int, list[int]]) -> None:
    nodes, edges = named(graph)
    reachable = {node: reach(edges, node) for node in nodes}
    components = strongly_connected(nodes, edges)
    assert sorted(n for component in components for n in component) == nodes
    placed: set[str] = set()
    for component in components:
        members = set(component)
        assert component == sorted(component)
        for node in component:  # one component: reach one another, and no one else
            assert members == {other for other in nodes if other == node or (
                other in reachable[node] and node in reachable[other])}
            assert {t for t in edges[node] if t not in members} <= placed  # targets first
        # a cycle: several members, or one that reaches itself
        assert is_cyclic(component, edges) == (len(component) > 1 or
                                               component[0] in reachable[component[0]])
        placed |= members


@settings(max_examples=300, deadline=None)
@given(_GRAPHS)
def test_levels_are_one_above_the_highest_target(graph: dict[int, list[int]]) -> None:
    nodes, edges = named(graph)
    components = strongly_connected(nodes, edges)
    found = levels(components, edges)
    assert sorted(map(tuple, (c for level in found for c in level))) == \
        sorted(map(tuple, components))
    level_of = {node: number for number, level in enumerate(found)
                for component in level for node in component}
    for number, level in enumerate(found):  # above every target, and no higher
        for component in level:
            members = set(component)
            targets = [level_of[t] for n in component for t in edges[n] if t not in members]
            assert number == 1 + max(targets, default=-1)


def test_a_long_chain_needs_no_recursion() -> None:
    edges = {f"n{i:05d}": [f"n{i + 1:05d}"] for i in range(20_000)}
    components = strongly_connected(sorted(edges), edges)
    assert components[0] == ["n20000"] and components[-1] == ["n00000"]
    assert len(levels(components, edges)) == 20_001
