"""`atlas-sre view RUN_DIR`: a local web viewer for a bench run, served by the standard library.

Why stdlib `http.server` and server-rendered pages: the viewer is for one person on their own
machine, looking at one run folder; a framework or a JavaScript build would be the biggest part of
the install for a dozen pages. It binds to 127.0.0.1 unless told otherwise and only ever reads.

Routes: `/` summary · `/episodes?mode=&fault=&correct=yes|no&complexity=` · `/episode/<key>` ·
`/capsule/<id>` · `/plots/<name>.png` · `/compare?other=PATH`. Anything else is a 404 page; a
path with a `..` segment is refused before routing.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from atlas_sre.bench.viewer_data import RunView
from atlas_sre.bench.viewer_episode import episode_page
from atlas_sre.bench.viewer_pages import (
    capsule_page,
    compare_page,
    episodes_page,
    esc,
    not_found,
    page,
    summary_page,
)

Reply = tuple[HTTPStatus, str, bytes]


class ViewerServer(ThreadingHTTPServer):
    """The HTTP server holding the opened run (and the run it is compared with, if any)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], run: RunView, other: RunView | None = None) -> None:
        super().__init__(address, ViewerHandler)
        self.run, self.other = run, other
        self._opened: dict[Path, RunView] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"

    def open_other(self, path: str) -> RunView:
        """A second run for `/compare?other=PATH`, opened once (ValueError if it is not a run)."""
        resolved = Path(path).expanduser().resolve()
        with self._lock:
            if resolved not in self._opened:
                self._opened[resolved] = RunView(resolved)
            return self._opened[resolved]


def _html(status: HTTPStatus, text: str) -> Reply:
    return status, "text/html; charset=utf-8", text.encode("utf-8")


def route(server: ViewerServer, target: str) -> Reply:
    """The reply to one GET of `target` (path + query); pure, so tests may call it directly."""
    parts = urlsplit(target)
    path = unquote(parts.path)
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    run = server.run
    if ".." in path.split("/") or "\\" in path or "\x00" in path:
        return _html(HTTPStatus.FORBIDDEN, page("Refused", '<p id="refused">Paths with .. are not served.</p>'))
    if path in ("/", "/index.html"):
        return _html(HTTPStatus.OK, summary_page(run))
    if path == "/episodes":
        return _html(HTTPStatus.OK, episodes_page(run, query))
    if path.startswith("/episode/"):
        record = run.records.get(path.removeprefix("/episode/"))
        if record is None:
            return _html(HTTPStatus.NOT_FOUND, not_found(f"no episode {path.removeprefix('/episode/')!r} in this run"))
        return _html(HTTPStatus.OK, episode_page(record, run.trace(record)))
    if path.startswith("/capsule/"):
        cid = path.removeprefix("/capsule/")
        found = run.capsule(cid)
        if found is None:
            return _html(HTTPStatus.NOT_FOUND, not_found(f"no capsule {cid!r} in this run's stores"))
        used_by = [r.key for r in run.records.values() if cid in r.capsules_used]
        return _html(HTTPStatus.OK, capsule_page(found[0], found[1], used_by))
    if path.startswith("/plots/"):
        png = run.plot(path.removeprefix("/plots/"))
        if png is None:
            return _html(HTTPStatus.NOT_FOUND, not_found(f"no plot {path!r}"))
        return HTTPStatus.OK, "image/png", png
    if path == "/compare":
        asked = query.get("other", "")
        try:
            other = server.open_other(asked) if asked else server.other
        except (ValueError, OSError) as exc:
            return _html(HTTPStatus.NOT_FOUND, page("Compare runs", f'<p id="error">{esc(str(exc))}</p>'))
        return _html(HTTPStatus.OK, compare_page(run, other, asked or (str(other.root) if other else "")))
    return _html(HTTPStatus.NOT_FOUND, not_found(f"nothing at {path!r}"))


class ViewerHandler(BaseHTTPRequestHandler):
    """GET and HEAD only; every reply is built by `route`."""

    server: ViewerServer
    server_version = "atlas-sre-view"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
        self._reply(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._reply(send_body=False)

    def _reply(self, send_body: bool) -> None:
        try:
            status, ctype, body = route(self.server, self.path)
        except Exception as exc:  # noqa: BLE001 - one broken trace must not take the viewer down
            status, ctype, body = _html(HTTPStatus.INTERNAL_SERVER_ERROR, page("Error", f"<pre>{esc(repr(exc))}</pre>"))
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        """Quiet: the terminal shows the URL, not one line per request."""


def make_server(run_dir: Path, host: str = "127.0.0.1", port: int = 0, compare: Path | None = None) -> ViewerServer:
    """Open the run (and the one to compare) and bind; ValueError if a folder is not a run,
    OSError if the port is taken. The caller runs `serve_forever()`."""
    run = RunView(run_dir)
    other = RunView(compare) if compare is not None else None
    return ViewerServer((host, port), run, other)
