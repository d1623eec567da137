"""The baseline a rule-hierarchy order manager gives: each line from the nearest node that has it.

It obeys the same policy filters (so its plans are legal) but ignores cost and consolidation.
"""

from __future__ import annotations

from keel.orders.sourcing.cost import CostModel, plan_cost
from keel.orders.sourcing.filters import Policy, screen
from keel.orders.sourcing.model import Allocation, Network, Order, OrderLine, Plan


def plan_greedy(order: Order, network: Network, policy: Policy | None = None, model: CostModel | None = None) -> Plan:
    """Each line independently: the nearest node holding the whole line, else take what the nearest nodes hold."""
    policy = policy or Policy()
    model = model or CostModel()
    options = sorted(screen(order, network, policy, model).options, key=lambda o: (o.km, o.node.code))
    units = {o.node.code: o.units for o in options}
    given: dict[tuple[str, str], int] = {}
    allocations: list[Allocation] = []
    unfilled: list[OrderLine] = []
    for line in order.lines:
        need = line.qty

        def room(code: str, usable: int, sku: str = line.sku) -> int:
            return min(usable - given.get((code, sku), 0), units[code])

        whole = next((o for o in options if room(o.node.code, o.usable.get(line.sku, 0)) >= need), None)
        for o in [whole] if whole is not None else options:
            if need == 0:
                break
            give = min(need, room(o.node.code, o.usable.get(line.sku, 0)))
            if give > 0:
                allocations.append(Allocation(o.node.code, line.sku, give))
                given[(o.node.code, line.sku)] = given.get((o.node.code, line.sku), 0) + give
                units[o.node.code] -= give
                need -= give
        if need:
            unfilled.append(OrderLine(line.sku, need))
    return Plan(
        order_id=order.id,
        strategy="greedy",
        allocations=tuple(allocations),
        unfilled=tuple(unfilled),
        cost=plan_cost(order, allocations, network.nodes, model),
    )
