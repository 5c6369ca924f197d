"""The benchmark's targets: ratios between numbers of the same run, so the machine cancels out."""

from __future__ import annotations

from typing import Any

LIST_SCALING_MAX = 1.2  # listing at 10k sessions costs at most this times listing at 1k
LIST_VS_AGNO_MIN = 50.0  # Agno's adapter reads at least this many times our RCUs at 10k
TURN_SCALING_MAX = 1.2  # turn 1,000 writes at most this times turn 1
RECENT_VS_AGNO_MIN = 20.0  # Agno reads at least this many times our RCUs for the last 5 runs
INIT_VS_FLOOR_MAX = 1.5  # every handler's import at most this times boto3 + a DynamoDB client
# Turn cost (issue 10), in USD from priced request units, for each shape of run:
TURN_WARM_VS_AGNO_MAX = 0.25  # our warm turn 100 at most a quarter of Agno's
TURN_COLD_VS_AGNO_MAX = 0.5  # our cold turn 100 at most half of Agno's
TURN_WARM_SCALING_MAX = 1.2  # our warm turn 1,000 at most this times our warm turn 1
# What these were before the turn-cost work (bench/results of 2026-11-27): they must not regress.
LIST_PAGE_RCU_BEFORE = 10.5
LIST_PAGE_VS_BEFORE_MAX = 1.5
LAST_RUNS_RCU_BEFORE = 6.0


def _ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 3) if denominator else float("inf")


def evaluate(results: dict[str, Any]) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    lists, turns, recent = results["list_rcu"], results["turn_wcu"], results["get_recent_rcu"]
    wall, cpu = results["init_ms"], results["init_cpu_ms"]
    handlers = [name for name in cpu if name != "floor"]
    ratios = {
        "list_rcu_ours_10k_over_1k": _ratio(lists["ours_10k"], lists["ours_1k"]),
        "list_rcu_agno_over_ours_10k": _ratio(lists["agno_10k"], lists["ours_10k"]),
        "turn_wcu_ours_t1000_over_t1": _ratio(turns["ours_t1000"], turns["ours_t1"]),
        "get_recent_rcu_agno_over_ours": _ratio(recent["agno"], recent["ours"]),
        **{f"init_cpu_{name}_over_floor": _ratio(cpu[name], cpu["floor"]) for name in handlers},
        **{f"init_wall_{name}_over_floor": _ratio(wall[name], wall["floor"]) for name in handlers},
    }
    # CPU time, not wall time: on a shared machine a cold start's wall time includes waiting for a
    # core (the wall samples of one probe spread by tens of percent under load, the CPU samples by
    # a few); a Lambda's init runs on its own vCPU share, where the two agree.
    worst = max(handlers, key=lambda name: cpu[name])
    targets = {
        "list_scales_flat": _target(ratios["list_rcu_ours_10k_over_1k"], "<=", LIST_SCALING_MAX),
        "list_50x_cheaper_than_agno": _target(ratios["list_rcu_agno_over_ours_10k"], ">=", LIST_VS_AGNO_MIN),
        "turn_cost_flat": _target(ratios["turn_wcu_ours_t1000_over_t1"], "<=", TURN_SCALING_MAX),
        "last_runs_20x_cheaper_than_agno": _target(ratios["get_recent_rcu_agno_over_ours"], ">=", RECENT_VS_AGNO_MIN),
        "init_within_floor": {
            **_target(ratios[f"init_cpu_{worst}_over_floor"], "<=", INIT_VS_FLOOR_MAX),
            "worst": worst,
            "measure": "CPU ms of the import, median of interleaved rounds",
        },
        "list_page_within_1_5x_before": _target(
            _ratio(lists["ours_10k"], LIST_PAGE_RCU_BEFORE), "<=", LIST_PAGE_VS_BEFORE_MAX
        ),
        "last_runs_no_dearer_than_before": _target(recent["ours"], "<=", LAST_RUNS_RCU_BEFORE),
        "big_runs_intact": _target(
            float(all(ok for key, ok in results["big_run"].items() if key.startswith("ours"))), ">=", 1.0
        ),
    }
    if "turn_cost" in results:
        turn_ratios, turn_targets = _turn_cost(results["turn_cost"], results["plan"]["turn_cost_turns"])
        ratios.update(turn_ratios)
        targets.update(turn_targets)
    return ratios, targets


def _turn_cost(costs: dict[str, Any], turn_numbers: list[int]) -> tuple[dict[str, float], dict[str, dict[str, Any]]]:
    first, middle, last = (f"t{number}" for number in turn_numbers)
    ratios: dict[str, float] = {}
    targets: dict[str, dict[str, Any]] = {}
    for run, shapes in costs.items():
        usd = {shape: {key: cost["usd_per_million"] for key, cost in keys.items()} for shape, keys in shapes.items()}
        for shape, limit in (("warm", TURN_WARM_VS_AGNO_MAX), ("cold", TURN_COLD_VS_AGNO_MAX)):
            name = f"turn_cost_{run}_{shape}_{middle}_ours_over_agno"
            ratios[name] = _ratio(usd[shape][f"ours_{middle}"], usd[shape][f"agno_{middle}"])
            targets[name] = _target(ratios[name], "<=", limit)
        name = f"turn_cost_{run}_warm_{last}_over_{first}"
        ratios[name] = _ratio(usd["warm"][f"ours_{last}"], usd["warm"][f"ours_{first}"])
        targets[name] = _target(ratios[name], "<=", TURN_WARM_SCALING_MAX)
    return ratios, targets


def _target(value: float, comparison: str, limit: float) -> dict[str, Any]:
    passed = value <= limit if comparison == "<=" else value >= limit
    return {"value": value, "limit": f"{comparison} {limit}", "pass": passed}
