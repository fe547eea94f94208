"""`atlas-sre view`: a real tiny bench (2 built-in scenarios × student, atlas, atlas+capsules, reference
agents, real simulator + kubectl, capsules seeded from a one-capsule library) served on a free port
and read over real HTTP: summary + plots, filters, an episode end to end, a capsule, compare,
escaping, refused traversal, and the CLI's one-line errors. A headless-browser walk runs when
Debian's chromium + chromedriver and selenium are installed, and skips saying so otherwise."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from atlas_sre.bench.config import BenchConfig, EpisodeResult
from atlas_sre.bench.runner import run_bench
from atlas_sre.bench.viewer import ViewerServer, make_server
from atlas_sre.capsules import CapsuleStore
from atlas_sre.capsules.model import Capsule
from atlas_sre.cli.view import view_cli

SCENARIOS = ["mesh-subset-missing", "image-not-found"]
EVIL = "<script>alert('owned')</script>"
pytestmark = [pytest.mark.kubectl,
              pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl missing")]


def seed_library(path: Path) -> str:
    """One capsule whose trigger matches the image-not-found incident, so iteration 0 applies it."""
    with CapsuleStore(path) as store:
        store.add(Capsule(skill="image_pull_debug", trigger="ImagePullBackOff; ErrImagePull; KubePodNotReady; image; "
                          "pull; not ready; pods", commands=["analyze -A"],
                          procedure=["Run the analyzer across all namespaces and read every Error line.",
                                     "The root cause is the Deployment whose image cannot be pulled."]))
    return str(path)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Run A (real, one trace given a `<script>` observation) and run B (A with one verdict flipped)."""
    root = tmp_path_factory.mktemp("view")
    cfg = BenchConfig(scenarios=SCENARIOS, modes="student,atlas,atlas+capsules", workers=2,
                      capsules_from=seed_library(root / "library.sqlite"))
    a = run_bench(cfg, root / "a", progress=False).out
    b = root / "b"
    shutil.copytree(a, b)
    lines = (b / "results.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["grade"]["correct"] = not first["grade"]["correct"]
    (b / "results.jsonl").write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n", encoding="utf-8")
    (b / "summary.json").unlink()  # rebuilt by the viewer from B's records
    trace = a / "traces" / "eval_student_image-not-found_i0_r0.json"
    data = json.loads(trace.read_text(encoding="utf-8"))
    step = next(r for r in data["records"] if r["type"] == "step" and r["kind"] == "command")
    step["messages"][-1]["content"] += "\n" + EVIL
    trace.write_text(json.dumps(data), encoding="utf-8")
    return a, b


@pytest.fixture(scope="module")
def server(runs: tuple[Path, Path]) -> Iterator[ViewerServer]:
    srv = make_server(runs[0], port=0)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def get(srv: ViewerServer, path: str) -> tuple[int, str, bytes]:
    """Status, content type and body of one real HTTP GET (errors included)."""
    try:
        with urllib.request.urlopen(srv.url.rstrip("/") + path, timeout=10) as resp:  # noqa: S310 - our server
            return resp.status, resp.headers["Content-Type"], resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read()


def text(srv: ViewerServer, path: str) -> str:
    status, ctype, body = get(srv, path)
    assert status == 200 and ctype.startswith("text/html"), (path, status)
    return body.decode("utf-8")


def records(run: Path) -> list[EpisodeResult]:
    return [EpisodeResult.model_validate_json(x) for x in (run / "results.jsonl").read_text().splitlines() if x]


def episode_url(key: str) -> str:
    return "/episode/" + quote(key, safe="/")


def test_summary_has_the_mode_table_and_plots_that_load(server: ViewerServer) -> None:
    page = text(server, "/")
    assert "Results per mode" in page and "atlas+capsules" in page and "Accuracy per fault" in page
    plots = [p.split('"')[0] for p in page.split('src="')[1:]]
    assert len(plots) == 4
    for src in plots:
        status, ctype, body = get(server, src)
        assert status == 200 and ctype == "image/png" and body.startswith(b"\x89PNG\r\n\x1a\n")


def test_filters_narrow_the_episode_list(server: ViewerServer, runs: tuple[Path, Path]) -> None:
    every = records(runs[0])
    assert f"{len(every)} of {len(every)} episodes" in text(server, "/episodes")
    page = text(server, "/episodes?mode=atlas%2Bcapsules")
    assert "2 of 6 episodes" in page and "eval/student/" not in page.split('id="episodes"')[1]
    wrong = [r for r in every if not r.correct]
    page = text(server, "/episodes?correct=no")
    assert f"{len(wrong)} of 6 episodes" in page and all(episode_url(r.key) in page for r in wrong)
    fault = next(r for r in every if r.scenario == "image-not-found").faults[0]
    page = text(server, f"/episodes?fault={quote(fault)}&mode=student")
    assert "1 of 6 episodes" in page and episode_url("eval/student/image-not-found/i0/r0") in page


def test_an_episode_page_goes_from_incident_to_truth(server: ViewerServer, runs: tuple[Path, Path]) -> None:
    record = next(r for r in records(runs[0]) if r.mode == "atlas+capsules" and r.capsules_used)
    page = text(server, episode_url(record.key))
    order = [page.index(f'id="{part}"') for part in ("incident", "plan", "probe", "guidance", "capsules", "commands",
                                                     "diagnosis", "truth")]
    assert order == sorted(order)
    assert 'id="run-baseline"' in page and 'id="run-guided"' in page
    assert '<code class="command">kubectl' in page or '<code class="command">analyze' in page
    assert page.count('<pre class="output">') == record.commands + (record.baseline.commands if record.baseline else 0)
    assert "Exit code: " in page  # the observation text the student read
    assert "score <b>" in page and f"{record.tokens['teacher.probe'].total:,}" in page
    truth = page.split('id="truth"')[1]
    assert "Deployment" in truth and ("correct" in truth or "wrong" in truth)
    assert f'href="/capsule/{record.capsules_used[0]}"' in page


def test_a_capsule_link_resolves_to_its_page(server: ViewerServer, runs: tuple[Path, Path]) -> None:
    record = next(r for r in records(runs[0]) if r.capsules_used)
    page = text(server, f"/capsule/{record.capsules_used[0]}")
    assert "image_pull_debug" in page and "Procedure" in page and "analyze -A" in page
    assert "acap.sqlite" in page and episode_url(record.key) in page
    assert get(server, "/capsule/cap-0000000000000000")[0] == 404


def test_compare_lists_per_mode_numbers_and_the_episode_that_differs(server: ViewerServer,
                                                                     runs: tuple[Path, Path]) -> None:
    flipped = records(runs[0])[0]
    page = text(server, f"/compare?other={quote(str(runs[1]))}")
    modes = page.split('id="modes"')[1].split("</table>")[0]
    assert all(m in modes for m in ("student", "atlas", "atlas+capsules"))
    differing = page.split('id="differing"')[1]
    assert "Episodes whose correctness differs (1)" in page and episode_url(flipped.key) in differing
    status, _, body = get(server, f"/compare?other={quote(str(runs[1] / 'nope'))}")
    assert status == 404 and b"is not a benchmark run" in body


def test_command_output_is_escaped(server: ViewerServer) -> None:
    page = text(server, episode_url("eval/student/image-not-found/i0/r0"))
    assert EVIL not in page and "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page


def test_unknown_keys_are_404_and_traversal_is_refused(server: ViewerServer) -> None:
    assert get(server, "/episode/eval/student/nope/i0/r0")[0] == 404
    assert get(server, "/nowhere")[0] == 404
    assert get(server, "/plots/config.json")[0] == 404
    for path in ("/plots/../config.json", "/plots/%2e%2e/results.jsonl", "/capsule/..%2F..%2Fconfig.json"):
        status, _, body = get(server, path)
        assert status == 403 and b'"scenarios"' not in body and b'"key"' not in body, path
    with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as sock:
        sock.sendall(b"GET /plots/../../../../etc/passwd HTTP/1.0\r\n\r\n")
        reply = sock.recv(65536)
    assert reply.startswith(b"HTTP/1.0 403") and b"root:" not in reply


def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], server: ViewerServer,
                                 runs: tuple[Path, Path]) -> None:
    assert view_cli(str(tmp_path), open_browser=False) == 2
    expected = f"error: {tmp_path} is not a benchmark run (no config.json / results.jsonl)"
    assert capsys.readouterr().err.strip() == expected
    assert view_cli(str(runs[0]), port=server.server_address[1], open_browser=False) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "is in use" in err[0]


def _browser() -> Any:
    """A headless Chromium through selenium, or a skip naming what is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    try:
        from selenium import webdriver  # type: ignore[import-not-found]
        from selenium.webdriver.chrome.service import Service  # type: ignore[import-not-found]
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium; apt-get install chromium chromium-driver)")
    if chromium is None or driver is None:
        pytest.skip("Debian's chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1600"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(driver), options=options)


def test_headless_browser_opens_an_episode_filters_and_follows_a_capsule(server: ViewerServer,
                                                                         artefacts: Path) -> None:
    browser = _browser()
    from selenium.webdriver.common.by import By  # type: ignore[import-not-found]
    from selenium.webdriver.support.ui import Select  # type: ignore[import-not-found]

    try:
        browser.get(server.url + "episodes")
        Select(browser.find_element(By.NAME, "mode")).select_by_value("atlas+capsules")  # submits on change
        assert "2 of 6 episodes" in browser.find_element(By.ID, "count").text
        browser.find_element(By.CSS_SELECTOR, "#episodes a.capsule").click()
        assert browser.find_element(By.TAG_NAME, "h1").text.startswith("Capsule ")
        browser.find_element(By.CSS_SELECTOR, "a[href^='/episode/']").click()
        assert browser.find_element(By.ID, "truth").is_displayed()
        shot = artefacts / "viewer-episode.png"
        assert browser.save_screenshot(str(shot)) and shot.read_bytes().startswith(b"\x89PNG")
        print(f"screenshot: {shot}")
    finally:
        browser.quit()
