"""The house's shape, checked by plain tools: no import cycle anywhere in the package at run time
(grimp: the graph import-linter builds, imports under TYPE_CHECKING left out; Tarjan's strongly
connected components over it). The ui's old circles (app -> main_window -> window_actions -> app,
a11y <-> chat_model) and the local backend's (hosted_login <-> hosted_federation) are open."""
from __future__ import annotations

import grimp


def _cycles(graph, prefix: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), among ``prefix``'s."""
    nodes = sorted(m for m in graph.modules if m.startswith(prefix))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.find_modules_directly_imported_by(v)):
            if not w.startswith(prefix):
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def test_the_core_has_no_import_cycle():
    graph = grimp.build_graph("archpal_desktop", exclude_type_checking_imports=True)
    assert _cycles(graph, "archpal_desktop.core") == []


def test_the_ui_has_no_import_cycle():
    graph = grimp.build_graph("archpal_desktop", exclude_type_checking_imports=True)
    assert _cycles(graph, "archpal_desktop.ui") == []


def test_nothing_in_the_package_has_an_import_cycle():
    """core, ui, cli, relay and the embedded local backend alike (function-level imports count)."""
    graph = grimp.build_graph("archpal_desktop", exclude_type_checking_imports=True)
    assert _cycles(graph, "archpal_desktop") == []
