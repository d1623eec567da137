"""The seams between contexts, read from the source (DESIGN section 2, docs/architecture.md):

- a context imports another context only through its public face (``keel.<context>``, its ``__all__``);
- a model module imports only the standard library, platform value types and its own context's models;
- product code never imports the retail twin (``keel.sim``): only the twin, the benches and ``keel demo``;
- the composition modules at the top (bootstrap, worker, deps) use public faces too; ``api.py``/``cli.py``
  may also mount a context's router or command group, and ``models.py`` gathers every context's tables.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import keel

ROOT = Path(keel.__file__).parent
CONTEXTS = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
SHARED = "platform"
MAY_USE_SIM = {"sim", "bench"}
PLATFORM_VALUES = {
    "keel.platform.vocabulary",
    "keel.platform.errors",
    "keel.platform.clock",
    "keel.platform.scope",
    "keel.platform.money",  # amounts in minor units of ISO 4217 currencies (DESIGN section 2: money in platform)
}
# What a top-level module may import from inside a context, beyond its public face; and the adapter-only
# packages it mounts whole (the control tower's page routers, the bench commands).
ADAPTERS = {"api.py": {"api"}, "cli.py": {"cli"}, "models.py": {"store"}}
MOUNTS = {"api.py": {"web"}, "cli.py": {"bench"}}


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(("keel", *path.relative_to(ROOT).parent.parts))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                yield node.lineno, ".".join([*base, node.module] if node.module else base)
            elif node.module:
                yield node.lineno, node.module


def modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "migrations" not in p.parts)


def context_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 else None


# Pure modules: the domain model, and the records and commands a context's services take and return.
PURE = {"model.py", "views.py"}


def is_model(path: Path) -> bool:
    return path.name in PURE or "model" in path.relative_to(ROOT).parts[:-1]


def violations() -> list[str]:
    found = []
    for path in modules():
        rel, ctx = path.relative_to(ROOT), context_of(path)
        for line, name in imports(path):
            parts = name.split(".")
            where = f"{rel}:{line} imports {name}"
            if parts[0] != "keel":
                if is_model(path) and parts[0] not in sys.stdlib_module_names and parts[0] != "__future__":
                    found.append(f"{where} (a model imports the standard library and platform value types only)")
                continue
            target = parts[1] if len(parts) > 1 else None
            if target == "sim":
                if (ctx not in MAY_USE_SIM and rel.name != "cli.py") or (ctx and rel.name == "cli.py"):
                    found.append(f"{where} (only the twin, the benches and `keel demo` may use keel.sim)")
                continue
            if is_model(path) and name not in PLATFORM_VALUES and target != ctx:
                found.append(f"{where} (a model imports the standard library and platform value types only)")
                continue
            if target not in CONTEXTS or target in (SHARED, ctx) or len(parts) == 2:
                continue
            mounted = parts[2] in ADAPTERS.get(rel.name, set()) or target in MOUNTS.get(rel.name, set())
            if ctx is None and mounted:
                continue
            found.append(f"{where} (use the public face keel.{target})")
    return found


def test_contexts_meet_only_through_their_public_faces() -> None:
    assert violations() == []


def test_every_context_names_its_public_face() -> None:
    missing = []
    for ctx in sorted(CONTEXTS - {SHARED, "sim", "bench", "web"}):
        tree = ast.parse((ROOT / ctx / "__init__.py").read_text())
        names = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
        if "__all__" not in names:
            missing.append(ctx)
    assert missing == []


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("from keel.orders.service.reads import x\n", "public face"),
        ("import keel.sim.world\n", "keel.sim"),
    ],
)
def test_the_rules_catch_a_violation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, rule: str) -> None:
    # given a product module of the insights context that breaks one rule
    fake_root = tmp_path / "keel"
    (fake_root / "insights").mkdir(parents=True)
    for ctx in ("orders", "sim", "insights"):
        (fake_root / ctx).mkdir(exist_ok=True)
        (fake_root / ctx / "__init__.py").write_text("")
    (fake_root / "insights" / "service.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    monkeypatch.setattr(sys.modules[__name__], "CONTEXTS", {"orders", "sim", "insights"})
    # then the check names it
    assert len(violations()) == 1
    assert rule in violations()[0]


def test_a_model_importing_a_framework_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_root = tmp_path / "keel"
    (fake_root / "orders").mkdir(parents=True)
    (fake_root / "orders" / "__init__.py").write_text("")
    (fake_root / "orders" / "model.py").write_text("import sqlalchemy\nfrom keel.platform.db import Database\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake_root)
    monkeypatch.setattr(sys.modules[__name__], "CONTEXTS", {"orders", "platform"})
    assert [v.split(" (")[0] for v in violations()] == [
        "orders/model.py:1 imports sqlalchemy",
        "orders/model.py:2 imports keel.platform.db",
    ]
