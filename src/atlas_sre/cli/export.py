"""`atlas-sre export teacher RUN_DIR --out FILE.jsonl`: a run's teaching episodes for outside trainers.

The Typer command only forwards its options to `export_teacher_cli`, which returns an exit code
(0 written, 2 usage error) and prints one line `error: …` on stderr for any user error; the lines
themselves come from the bench room (`bench/export.py`, docs/training.md), imported inside the
function so `atlas-sre --help` does not load it.
"""

from __future__ import annotations

import sys

import typer

export_app = typer.Typer(no_args_is_help=True, help="Export benchmark episodes for outside trainers.")


@export_app.command("teacher")
def export_teacher(
    run_dir: str = typer.Argument(..., metavar="RUN_DIR", help="A run folder of `atlas-sre bench`."),
    out: str = typer.Option(..., "--out", help="The JSONL file to write (replaced)."),
    fmt: str = typer.Option("trl", "--format", metavar="trl|atlas",
                            help="trl: prompt/completion chat messages + reward (TRL); atlas: ATLAS session traces."),
    modes: str = typer.Option("atlas,atlas+capsules", "--modes", help="Taught modes to export, comma-separated."),
    phase: str = typer.Option("all", "--phase", metavar="eval|train|all", help="Which split's episodes."),
) -> None:
    """One line per taught episode: the teacher's prompt, its probe + correction, the ATLAS reward."""
    raise typer.Exit(export_teacher_cli(run_dir, out, fmt=fmt, modes=modes, phase=phase))


def export_teacher_cli(run_dir: str, out: str, *, fmt: str = "trl", modes: str = "atlas,atlas+capsules",
                       phase: str = "all") -> int:
    """Write the export; print `wrote N lines …` to stdout. Exit code 0, or 2 with a one-line error."""
    from pathlib import Path

    from atlas_sre.bench.export import ExportError
    from atlas_sre.bench.export import export_teacher as write_export

    try:
        lines, skipped = write_export(Path(run_dir), Path(out), fmt=fmt, modes=modes, phase=phase)
    except ExportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    note = f" (skipped {skipped} without a teaching record or a control)" if skipped else ""
    print(f"wrote {lines} {fmt} lines to {out}{note}")
    return 0
