"""Plain-text rendering of a plan's explanation, for the CLI and logs (the API returns the dataclasses)."""

from __future__ import annotations

from keel.orders.sourcing.model import Plan


def describe(plan: Plan) -> list[str]:
    """Readable lines: the chosen nodes and cost, each rejected candidate with its filter, the ranking."""
    out = [
        f"order {plan.order_id} ({plan.strategy}): {', '.join(plan.nodes) or 'no node'}"
        f" cost {plan.cost.total:.2f} (shipping {plan.cost.shipping:.2f}, handling {plan.cost.handling:.2f},"
        f" split {plan.cost.split:.2f}, late {plan.cost.late:.2f}, unfilled {plan.cost.unfilled:.2f})"
    ]
    out += [f"  {a.qty} x {a.sku} from {a.node}" for a in plan.allocations]
    out += [f"  unfilled: {line.qty} x {line.sku}" for line in plan.unfilled]
    e = plan.explanation
    if e is None:
        return out
    out.append(f"  candidates considered: {len(e.candidates)}, plans evaluated: {e.plans_evaluated}")
    out += [f"  rejected {r.node}: {r.filter}: {r.reason}" for r in e.rejections]
    for rank, p in enumerate(e.ranking, start=1):
        out.append(
            f"  #{rank} {'+'.join(p.nodes)} splits={p.splits} unfilled={p.unfilled_units}"
            f" late={p.late_packages} cost={p.cost:.2f}"
        )
    out += [f"  note: {n}" for n in e.notes]
    return out
