"""`atlas-sre view RUN_DIR`: serve a bench run's local web viewer (bench/viewer.py).

`view_cli` opens the run(s) and binds before printing anything, so a folder that is not a run or
a port already in use is one `error:` line and exit code 2, never a traceback; `serve` blocks until
Ctrl-C. Tests start the server through `bench.viewer.make_server` and fetch pages over HTTP.
"""

from __future__ import annotations

import errno
import sys
from pathlib import Path

import typer


def view(
    run_dir: str = typer.Argument(..., help="A bench run folder (config.json + results.jsonl)."),
    port: int = typer.Option(8765, "--port", min=0, max=65535, help="Port to listen on (0: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (default: this machine only)."),
    compare: str | None = typer.Option(None, "--compare", metavar="OTHER_RUN",
                                       help="A second run folder shown on the /compare page."),
    no_open: bool = typer.Option(False, "--no-open", help="Do not open a browser; just print the URL."),
) -> None:
    """Browse a benchmark run: summary, episodes, each episode's commands and diagnosis, capsules."""
    raise typer.Exit(view_cli(run_dir, port=port, host=host, compare=compare, open_browser=not no_open))


def _err(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def view_cli(run_dir: str, *, port: int = 8765, host: str = "127.0.0.1", compare: str | None = None,
             open_browser: bool = True) -> int:
    """Serve until interrupted; exit code (0 after Ctrl-C, 2 for a bad folder or a busy port)."""
    from atlas_sre.bench.viewer import make_server

    try:
        server = make_server(Path(run_dir), host=host, port=port,
                             compare=Path(compare) if compare is not None else None)
    except ValueError as exc:
        _err(str(exc))
        return 2
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            _err(f"port {port} on {host} is in use: pick another with --port, or --port 0 for a free one")
        else:
            _err(f"cannot serve on {host}:{port}: {exc.strerror or exc}")
        return 2
    print(f"atlas-sre view: {server.url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
