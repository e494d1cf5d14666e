"""Dependency-graph helpers for post-processing: strongly connected
components and the levels in which they can be finished.

Nodes are strings; ``edges[node]`` lists the nodes it depends on (its
targets). A node missing from ``edges`` has no targets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

__all__ = ["is_cyclic", "levels", "strongly_connected"]


def strongly_connected(nodes: Sequence[str], edges: Mapping[str, Sequence[str]]
                       ) -> list[list[str]]:
    """Tarjan's algorithm, iterative (a long chain would exceed Python's
    recursion limit). Each component is sorted; components come out targets
    first: every target outside a component is in an earlier one."""
    search = _Tarjan(edges)
    for root in nodes:
        if root not in search.index:
            search.visit(root)
    return search.components


class _Tarjan:
    def __init__(self, edges: Mapping[str, Sequence[str]]) -> None:
        self.edges = edges
        self.index: dict[str, int] = {}
        self.low: dict[str, int] = {}
        self.on_stack: set[str] = set()
        self.stack: list[str] = []
        self.components: list[list[str]] = []

    def enter(self, node: str) -> Iterator[str]:
        self.index[node] = self.low[node] = len(self.index)
        self.stack.append(node)
        self.on_stack.add(node)
        return iter(self.edges.get(node, ()))

    def visit(self, root: str) -> None:
        if not self.edges.get(root):  # most files: nothing below them, their own component
            self.index[root] = self.low[root] = len(self.index)
            self.components.append([root])
            return
        work = [(root, self.enter(root))]
        while work:
            node, children = work[-1]
            child = self.next_unvisited(node, children)
            if child is not None:
                work.append((child, self.enter(child)))
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                self.low[parent] = min(self.low[parent], self.low[node])
            if self.low[node] == self.index[node]:
                self.close(node)

    def next_unvisited(self, node: str, children: Iterator[str]) -> str | None:
        """The next child not met yet; the others lower ``node``'s low-link."""
        for child in children:
            if child not in self.index:
                return child
            if child in self.on_stack:
                self.low[node] = min(self.low[node], self.index[child])
        return None

    def close(self, node: str) -> None:
        component = []
        while True:
            member = self.stack.pop()
            self.on_stack.discard(member)
            component.append(member)
            if member == node:
                break
        self.components.append(sorted(component))


def is_cyclic(component: Sequence[str], edges: Mapping[str, Sequence[str]]) -> bool:
    """Whether a component is a cycle: several members, or one that depends on itself."""
    return len(component) > 1 or component[0] in edges.get(component[0], ())


def levels(components: Sequence[list[str]], edges: Mapping[str, Sequence[str]]
           ) -> list[list[list[str]]]:
    """The components (targets first) by level: a component's level is one
    above its highest target's, so the components of one level depend only
    on earlier levels and can be finished side by side."""
    result: list[list[list[str]]] = []
    level_of: dict[str, int] = {}
    for component in components:
        members = set(component)
        level = 1 + max((level_of[target] for name in component
                         for target in edges.get(name, ()) if target not in members),
                        default=-1)
        level_of.update(dict.fromkeys(component, level))
        if level == len(result):
            result.append([])
        result[level].append(component)
    return result
