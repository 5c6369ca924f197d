"""Writes the results: bench/results/latest.json, latest.md (the table docs/bench.md shows) and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.targets import INIT_VS_FLOOR_MAX

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SYSTEMS = (("ours", "Session Store"), ("agno", "Agno DynamoDb"))


def write(results: dict[str, Any]) -> list[Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / "latest.json"
    json_path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    md_path = RESULTS_DIR / "latest.md"
    md_path.write_text(markdown(results))
    return [json_path, md_path, *plots(results)]


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 10 or value == int(value) else f"{value:,.2f}"
    return str(value)


def markdown(results: dict[str, Any]) -> str:
    rows = [
        ("List a user's 20 newest sessions, 1k sessions", "list", "1k"),
        ("List a user's 20 newest sessions, 10k sessions", "list", "10k"),
        ("Write turn 1 (session + run), priced", "turn", "t1"),
        ("Write turn 1,000 (session + run), priced", "turn", "t1000"),
    ]
    unit = {"list": "RCU", "turn": "WCU"}
    lines = [
        "| Operation | Session Store | Agno DynamoDb | Session Store ms | Agno ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, kind, size in rows:
        units, times = results[f"{kind}_{'rcu' if kind == 'list' else 'wcu'}"], results[f"{kind}_ms"]
        lines.append(
            f"| {label} | {_fmt(units[f'ours_{size}'])} {unit[kind]} | {_fmt(units[f'agno_{size}'])} {unit[kind]} "
            f"| {_fmt(times[f'ours_{size}'])} | {_fmt(times[f'agno_{size}'])} |"
        )
    recent, recent_ms = results["get_recent_rcu"], results["get_recent_ms"]
    lines.append(
        f"| Read the last 5 runs of a 1,000-run session | {_fmt(recent['ours'])} RCU | {_fmt(recent['agno'])} RCU "
        f"| {_fmt(recent_ms['ours'])} | {_fmt(recent_ms['agno'])} |"
    )
    big = results["big_run"]
    for size, label in (("300k", "300 KB"), ("2m", "2 MB")):
        lines.append(
            f"| A run of {label} stored and read back intact | {_fmt(big[f'ours_{size}'])} "
            f"| {_fmt(big[f'agno_{size}'])} | | |"
        )
    lines += [
        "",
        "Cold start: import and init of each function in a fresh interpreter (median of interleaved "
        "rounds; the target compares CPU time):",
        "",
        "| Function | wall ms | CPU ms | CPU x floor |",
        "|---|---:|---:|---:|",
    ]
    wall, cpu = results["init_ms"], results["init_cpu_ms"]
    for name in cpu:
        ratio = results["ratios"].get(f"init_cpu_{name}_over_floor", 1.0)
        label = "floor: `import boto3` + a DynamoDB client" if name == "floor" else f"`handlers.{name}`"
        lines.append(f"| {label} | {_fmt(wall[name])} | {_fmt(cpu[name])} | {ratio:.2f} |")
    first = results.get("cold_start_ms")
    if first:
        lines += [
            "",
            f"To the first answer (import, init and one request; tracing on, as deployed): floor with one "
            f"GetItem {_fmt(first['floor'])} ms, `GET /sessions/{{id}}?runs_limit=5` "
            f"{_fmt(first['get_session'])} ms (wall, median).",
        ]
    if "turn_cost" in results:
        lines += ["", *turn_cost_table(results)]
    lines += ["", "Targets (ratios within this run):", "", "| Target | Value | Limit | Pass |", "|---|---:|---|---|"]
    for name, target in results["targets"].items():
        lines.append(f"| {name} | {target['value']} | {target['limit']} | {_fmt(target['pass'])} |")
    lines += [
        "",
        f"Run of {results['generated_at']} on {results['environment']['machine']}, "
        f"{results['duration_s']:.0f} s. Capacity as DynamoDB Local reports it: see docs/bench.md.",
        "",
    ]
    return "\n".join(lines)


def turn_cost_table(results: dict[str, Any]) -> list[str]:
    """A whole agent turn (get_session, upsert_session, upsert_run) priced by AWS's rules."""
    numbers = results["plan"]["turn_cost_turns"]
    prices = results["turn_cost_prices"]
    lines = [
        f"A whole Agno turn, priced per AWS's rules from the items' sizes (USD per million turns at "
        f"${prices['usd_per_million_read_request_units']}/M read and "
        f"${prices['usd_per_million_write_request_units']}/M write request units, on-demand):",
        "",
        "| run | shape | turn | Session Store | Agno DynamoDb | ours / Agno |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for run, shapes in results["turn_cost"].items():
        described = results["turn_cost_runs"][run]
        run_label = f"{run} ({described['run_json_bytes'] / 1024:.1f} KB, {described['messages_per_run']} messages)"
        for shape in ("warm", "cold"):
            for number in numbers:
                ours, agno = shapes[shape][f"ours_t{number}"], shapes[shape][f"agno_t{number}"]
                ratio = ours["usd_per_million"] / agno["usd_per_million"] if agno["usd_per_million"] else float("inf")
                lines.append(
                    f"| {run_label} | {shape} | {number:,} | ${_fmt(ours['usd_per_million'])} "
                    f"({_fmt(ours['rru'])} R + {_fmt(ours['wru'])} W) | ${_fmt(agno['usd_per_million'])} "
                    f"({_fmt(agno['rru'])} R + {_fmt(agno['wru'])} W) | {ratio:.2f} |"
                )
    return lines


def plots(results: dict[str, Any]) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = []
    colors = {"ours": "#2b7bb9", "agno": "#e07b39"}

    def bars(
        axis: Any, title: str, groups: list[tuple[str, str]], values: dict[str, float], ylabel: str, log: bool = True
    ) -> None:
        width = 0.38
        for offset, (system, label) in enumerate(SYSTEMS):
            heights = [values[f"{system}_{key}"] if key else values[system] for key, _ in groups]
            positions = [index + (offset - 0.5) * width for index in range(len(groups))]
            drawn = axis.bar(positions, heights, width, label=label, color=colors[system])
            axis.bar_label(drawn, fmt="%g", fontsize=8)
        axis.set_xticks(range(len(groups)), [name for _, name in groups])
        if log:  # from 1, so that bar lengths compare
            axis.set_yscale("log")
            axis.set_ylim(bottom=1)
        axis.set_title(title, fontsize=10)
        axis.set_ylabel(ylabel)

    for metric, units, file_name in (
        ("rcu", "read capacity units", "capacity.png"),
        ("ms", "ms (median)", "latency.png"),
    ):
        turn_units = "write capacity units (as DynamoDB Local reports)" if metric == "rcu" else units
        turn_metric = "turn_wcu" if metric == "rcu" else "turn_ms"
        figure, axes = plt.subplots(1, 3, figsize=(13, 4.2))
        groups = [("1k", "1k sessions"), ("10k", "10k sessions")]
        bars(axes[0], "List a user's 20 newest sessions", groups, results[f"list_{metric}"], units)
        groups = [("t1", "turn 1"), ("t1000", "turn 1,000")]
        bars(axes[1], "Write one turn", groups, results[turn_metric], turn_units, log=False)
        bars(axes[2], "Read the last 5 of 1,000 runs", [("", "")], results[f"get_recent_{metric}"], units)
        axes[0].legend()
        figure.tight_layout()
        written.append(_save(figure, file_name))

    init = results["init_cpu_ms"]
    figure, axis = plt.subplots(figsize=(10, 4.2))
    names = list(init)
    axis.bar(
        names,
        [init[name] for name in names],
        color=["#888888" if name == "floor" else colors["ours"] for name in names],
    )
    axis.axhline(
        init["floor"] * INIT_VS_FLOOR_MAX, color="#c0392b", linestyle="--", label=f"target: {INIT_VS_FLOOR_MAX} x floor"
    )
    axis.set_ylabel("CPU ms to import and init (median)")
    axis.set_title("Cold start per function vs. the floor (import boto3 + a DynamoDB client)", fontsize=10)
    axis.tick_params(axis="x", rotation=35)
    axis.legend()
    figure.tight_layout()
    written.append(_save(figure, "init.png"))
    return written


def _save(figure: Any, name: str) -> Path:
    import matplotlib.pyplot as plt

    path = RESULTS_DIR / name
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
