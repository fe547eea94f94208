"""`atlas-sre bench` and `atlas-sre report`: the Typer commands and the functions behind them.

The functions return exit codes (0 ok, 1 interrupted run, 2 usage/config error) and print one-line
errors, so tests call them directly; the numbers and tables come from the bench room (`bench/`),
imported inside each function so `atlas-sre --help` does not load it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer


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
    tool_mode: str = typer.Option("auto", "--tool-mode", metavar="auto|native|text|constrained",
                                  help="How a model student acts (docs/models.md); reference agents ignore it."),
    max_steps: int | None = typer.Option(None, "--max-steps", min=1,
                                         help="Student command budget per investigation (default: the loop's)."),
    capsules_from: str | None = typer.Option(None, "--capsules-from", metavar="STORE",
                                             help="Start the run's capsule stores from a copy of STORE "
                                                  "(a library learnt elsewhere; never written)."),
    no_analyzer: bool = typer.Option(False, "--no-analyzer", help="Every mode without the `analyze` tool "
                                                                  "(kubectl only; part of the run's identity)."),
    train_iterations: int = typer.Option(1, "--train-iterations", min=1,
                                         help="Passes over the training split (with --split)."),
    agent: str | None = typer.Option(None, "--agent", metavar="'cmd:TEMPLATE'",
                                     help="Benchmark an outside agent command (mode student only; docs/outside-"
                                          "agents.md): {incident} is its briefing, KUBECONFIG the scenario's."),
    agent_timeout: float = typer.Option(600.0, "--agent-timeout", min=1, help="Seconds per outside-agent episode."),
    teacher_prompts: str | None = typer.Option(None, "--teacher-prompts", metavar="DIR",
                                               help="The LLM teacher's templates from DIR (`atlas-sre train "
                                                    "prompts`) instead of the packaged ones."),
    executor: str = typer.Option("local", "--executor", metavar="local|ray",
                                 help="Where episodes run: local worker processes, or Ray tasks (docs/ray.md)."),
    ray_address: str | None = typer.Option(None, "--ray-address", metavar="ADDR",
                                           help="With --executor ray: the cluster to join (auto, HOST:PORT, "
                                                "ray://HOST:10001); none starts a local Ray."),
) -> None:
    """Benchmark modes side by side over a scenario set; writes results, summary and reports."""
    raise typer.Exit(bench_cli(scenarios, modes, iterations, repeats, split, workers, student, teacher, seed, out,
                               tool_mode=tool_mode, max_steps=max_steps, capsules_from=capsules_from,
                               no_analyzer=no_analyzer, train_iterations=train_iterations, agent=agent,
                               agent_timeout=agent_timeout, executor=executor, ray_address=ray_address,
                               teacher_prompts=teacher_prompts))


def _teacher_prompts(folder: str | None, teacher: str) -> dict[str, str] | None:
    """The templates in `folder` (checked), for a model teacher only: the reference teacher has no prompts."""
    if folder is None:
        return None
    from atlas_sre.agents.factory import make_teacher
    from atlas_sre.agents.llm.teacher_prompts import load_teacher_prompts

    prompts = load_teacher_prompts(folder)
    if teacher.split(":", 1)[0] == "reference":
        make_teacher(teacher, prompts=prompts)  # raises the one-line refusal
    return prompts


def report(dirs: list[str] = typer.Argument(..., help="One run folder (rebuild) or two (compare).")) -> None:
    """Rebuild a run's reports, or compare two runs."""
    raise typer.Exit(report_cli(dirs))


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def bench_cli(scenarios: list[str] | str | None = None, modes: str | None = None, iterations: int = 1,
              repeats: int = 1, split: str | None = None, workers: int = 0, student: str = "reference:student",
              teacher: str = "reference:teacher", seed: int = 0, out: str = "bench-out", *,
              tool_mode: str = "auto", max_steps: int | None = None, capsules_from: str | None = None,
              no_analyzer: bool = False, train_iterations: int = 1, agent: str | None = None,
              agent_timeout: float = 600.0, executor: str = "local", ray_address: str | None = None,
              teacher_prompts: str | None = None) -> int:
    """Run or resume a benchmark into `out`, print the per-mode table; exit code. `workers=0`: auto."""
    from atlas_sre.agents.llm.tools import TOOL_MODES
    from atlas_sre.bench.config import BenchConfig, check_agent_modes, parse_modes
    from atlas_sre.bench.executor import check_executor
    from atlas_sre.bench.runner import run_bench
    from atlas_sre.bench.tables import console_report

    if isinstance(scenarios, str):
        scenarios = [s for s in scenarios.split(",") if s]
    if tool_mode not in TOOL_MODES:
        _err(f"unknown --tool-mode {tool_mode!r}: valid modes are {', '.join(TOOL_MODES)}")
        return 2
    try:
        check_executor(executor, ray_address)
        prompts = _teacher_prompts(teacher_prompts, teacher)
        if executor == "ray":  # before anything is written: say how to install it, not a traceback later
            from atlas_sre.bench.executor_ray import check_address, import_ray
            import_ray()
            if ray_address:
                check_address(ray_address)
        if agent is not None:
            from atlas_sre.bench.external import parse_agent
            parse_agent(agent)
            modes = modes or "student"
            check_agent_modes(agent, parse_modes(modes))
        cfg = BenchConfig(scenarios=scenarios or ["builtin"], modes=parse_modes(modes) if modes else
                          BenchConfig().modes, iterations=iterations, repeats=repeats, split=split,
                          agent=agent, agent_timeout_s=agent_timeout,
                          workers=workers, student=student, teacher=teacher, seed=seed, tool_mode=tool_mode,
                          max_steps=max_steps, no_analyzer=no_analyzer, train_iterations=train_iterations,
                          capsules_from=_library(capsules_from), executor=executor, ray_address=ray_address,
                          teacher_prompts=prompts)
        run = run_bench(cfg, out, progress=sys.stderr.isatty())
    except KeyboardInterrupt:
        _err(f"interrupted; finished episodes are in {out}/results.jsonl — rerun the same command to resume")
        return 1
    except (ValueError, OSError) as exc:
        _err(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return 2
    except Exception as exc:  # a dead worker (BrokenProcessPool) or an unforeseen failure
        _err(f"{type(exc).__name__}: {exc}; finished episodes are kept — rerun the same command to resume")
        return 1
    print(console_report(run.summary))
    print(f"\nreports: {run.out}/report.md, {run.out}/report.html, {run.out}/summary.json")
    return 0


def report_cli(dirs: list[str]) -> int:
    """One DIR: rebuild summary.json, report.md, report.html from results.jsonl. Two: compare them."""
    from atlas_sre.bench.report import write_reports
    from atlas_sre.bench.results import load_run
    from atlas_sre.bench.tables import compare_markdown, render_markdown

    if len(dirs) not in (1, 2):
        _err("give one run directory (rebuild its reports) or two (compare them)")
        return 2
    try:
        runs = [load_run(Path(d)) for d in dirs]
        summaries = [write_reports(Path(d), records, cfg) for d, (cfg, records) in zip(dirs, runs, strict=True)]
    except (ValueError, OSError) as exc:
        _err(str(exc))
        return 2
    if len(dirs) == 1:
        print(render_markdown(summaries[0]))
    else:
        print(compare_markdown(summaries[0], summaries[1], dirs[0], dirs[1]))
    return 0


def _library(capsules_from: str | None) -> str | None:
    """`--capsules-from` as the config keeps it: a file made absolute, a postgresql:// URL as given."""
    if not capsules_from:
        return None
    return capsules_from if capsules_from.lower().startswith(("postgresql://", "postgres://")) \
        else str(Path(capsules_from).resolve())
