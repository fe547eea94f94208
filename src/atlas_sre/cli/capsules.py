"""`atlas-sre capsules …`: the Typer group and one function per subcommand (plain arguments, an exit code).

The Typer commands only forward options to the `*_cli` functions, so every behaviour is testable
without a CLI runner. Output goes to stdout (tables, or JSON with `as_json`); every user error is
one line `error: …` on stderr with exit status 1, never a traceback. The store is `store`
(`--store`), else `$ATLAS_SRE_CAPSULES`, else the default path (`default_store_path`). The capsule
room is imported inside each function, so `atlas-sre --help` does not load it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from atlas_sre.capsules.model import Capsule, CapsuleStatus
    from atlas_sre.capsules.store import CapsuleStore

capsules_app = typer.Typer(no_args_is_help=True, help="Skill Capsules: learned investigation procedures.")
STORE = typer.Option(None, "--store", help="Capsule store: a SQLite file or a postgresql:// URL (default "
                     "$ATLAS_SRE_CAPSULES, else ~/.local/share/atlas-sre/capsules.sqlite).")
JSON = typer.Option(False, "--json", help="JSON output.")


@capsules_app.command("list")
def capsules_list(status: str | None = typer.Option(None, "--status", help="active, provisional, deprecated, pruned."),
                  as_json: bool = JSON, store: str | None = STORE) -> None:
    """Capsules with status, uses, success rate and trigger."""
    raise typer.Exit(list_cli(store, status=status, as_json=as_json))


@capsules_app.command("show")
def capsules_show(capsule_id: str = typer.Argument(..., metavar="ID"), as_json: bool = JSON,
                  store: str | None = STORE) -> None:
    """Everything about one capsule, with its Beta posterior and token/time deltas."""
    raise typer.Exit(show_cli(capsule_id, store, as_json=as_json))


@capsules_app.command("search")
def capsules_search(text: str = typer.Argument(..., help="Incident text."),
                    k: int = typer.Option(5, "-k", "--top", min=1, help="How many."),
                    as_json: bool = JSON, store: str | None = STORE) -> None:
    """Capsules matching an incident, with scores and why."""
    raise typer.Exit(search_cli(text, store, k=k, as_json=as_json))


@capsules_app.command("import")
def capsules_import(path: str = typer.Argument(..., metavar="FILE|STORE"), as_json: bool = JSON,
                    store: str | None = STORE) -> None:
    """Import capsules from JSON (the seed's single-capsule format is accepted), or copy every
    capsule with its history from another store (a SQLite file or a postgresql:// URL)."""
    raise typer.Exit(import_cli(path, store, as_json=as_json))


@capsules_app.command("export")
def capsules_export(path: str | None = typer.Argument(None, metavar="[FILE|STORE]"),
                    status: str | None = typer.Option(None, "--status", help="Only this status."),
                    store: str | None = STORE) -> None:
    """Export capsules as JSON (stdout without FILE), or copy them with their history into another
    store (a postgresql:// URL, or a .sqlite/.db file)."""
    raise typer.Exit(export_cli(path, store, status=status))


@capsules_app.command("feedback")
def capsules_feedback(target: str = typer.Argument(..., metavar="ID|RUN"),
                      success: bool | None = typer.Option(None, "--success/--failure", "--correct/--wrong",
                                                          help="Did it help / was the diagnosis right?"),
                      as_json: bool = JSON, store: str | None = STORE) -> None:
    """Settle a saved `investigate --learn` RUN (id or file; learns from it when correct), or mark
    the outcome of one capsule's use (ID) on a real cluster (no ground truth there)."""
    if success is None:
        print("error: say --correct or --wrong (alias --success/--failure)", file=sys.stderr)
        raise typer.Exit(1)
    raise typer.Exit(feedback_cli(target, success, store, as_json=as_json))


@capsules_app.command("prune")
def capsules_prune(dry_run: bool = typer.Option(False, "--dry-run", help="Show decisions, change nothing."),
                   config: str | None = typer.Option(None, "--config", help="Pruning config (YAML or JSON)."),
                   baseline_rate: float | None = typer.Option(None, "--baseline-rate", min=0.0, max=1.0,
                                                              help="Success rate without capsules."),
                   as_json: bool = JSON, store: str | None = STORE) -> None:
    """Demote or prune capsules that are harmful, neutral or too specific."""
    raise typer.Exit(prune_cli(store, config=config, dry_run=dry_run, baseline_rate=baseline_rate, as_json=as_json))


@capsules_app.command("stats")
def capsules_stats(top: int = typer.Option(5, "--top", min=0, help="How many top capsules."),
                   as_json: bool = JSON, store: str | None = STORE) -> None:
    """Counts by status, mean success rate, top capsules."""
    raise typer.Exit(stats_cli(store, as_json=as_json, top=top))


log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., int])


def cli_errors(fn: F) -> F:
    """Turn CliError, store and validation errors into `error: …` on stderr and exit status 1."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> int:
        from atlas_sre.capsules.admin import CliError

        try:
            return fn(*args, **kwargs)
        except CliError as exc:
            print(f"error: {exc}", file=sys.stderr)
        except sqlite3.Error as exc:
            print(f"error: capsule store: {exc}", file=sys.stderr)
        return 1
    return wrapper  # type: ignore[return-value]


def _writable(target: Path) -> bool:
    """Whether the store file (or, for a new one, its nearest existing folder) can be written."""
    if target.exists():
        return os.access(target, os.W_OK) and os.access(target.parent, os.W_OK)
    parent = target.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    return os.access(parent, os.W_OK)


def open_store(path: str | Path | None, *, write: bool = False) -> CapsuleStore:
    """Open the store checked intact, or raise CliError naming the path and the reason.

    Reads (`write=False`) of a store on a read-only file or folder open it read-only; commands that
    write open it read-write (creating it if needed) and refuse a read-only or damaged one.
    """
    from atlas_sre.capsules.admin import CliError
    from atlas_sre.capsules.pg import PostgresUnavailableError, redact
    from atlas_sre.capsules.store import CapsuleStore, SchemaTooNewError, store_location

    target = store_location(path)
    if isinstance(target, str):  # a PostgreSQL URL: the server decides what may be written
        try:
            return CapsuleStore(target)
        except PostgresUnavailableError as exc:
            raise CliError(str(exc)) from None  # already names the (redacted) URL and the fix
        except (sqlite3.Error, SchemaTooNewError) as exc:
            raise CliError(f"cannot open capsule store {redact(target)}: {exc}") from None
    read_only = not write and target.is_file() and not _writable(target)
    if write and not _writable(target):
        raise CliError(f"cannot write capsule store {target}: it is read-only")
    store = None
    try:
        store = CapsuleStore(target, read_only=read_only)
        store.verify()
        return store
    except (OSError, sqlite3.Error, SchemaTooNewError) as exc:
        if store is not None:
            store.close()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CliError(f"cannot open capsule store {target}: {reason}") from None


def resolve_id(store: CapsuleStore, capsule_id: str) -> Capsule:
    """The capsule with this id, or the only one whose id starts with it."""
    from atlas_sre.capsules.admin import CliError

    found = store.get(capsule_id)
    if found is not None:
        return found
    matches = [c for c in store.list() if c.id.startswith(capsule_id)] if len(capsule_id) >= 5 else []
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise CliError(f"capsule id prefix {capsule_id!r} is ambiguous ({len(matches)} capsules)")
    raise CliError(f"no capsule with id {capsule_id!r} in {store.path}")


def _status(value: str | None) -> CapsuleStatus | None:
    from atlas_sre.capsules.admin import CliError
    from atlas_sre.capsules.model import CapsuleStatus

    if value is None:
        return None
    try:
        return CapsuleStatus(value.lower())
    except ValueError:
        known = ", ".join(s.value for s in CapsuleStatus)
        raise CliError(f"unknown status {value!r} (one of {known})") from None


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@cli_errors
def list_cli(store: str | None = None, *, status: str | None = None, as_json: bool = False) -> int:
    """`capsules list`: id, skill, status, uses, success rate, trigger."""
    with open_store(store) as s:
        capsules = s.list(_status(status))
    if as_json:
        _emit([{"id": c.id, "skill": c.skill, "status": c.status.value, "uses": c.uses,
                "success_rate": round(c.success_rate, 6), "trigger": c.trigger} for c in capsules])
        return 0
    print(f"{'ID':<20}  {'SKILL':<40}  {'STATUS':<11}  {'USES':>4}  {'SUCCESS':>7}  TRIGGER")
    for c in capsules:
        print(f"{c.id:<20}  {_short(c.skill, 40):<40}  {c.status.value:<11}  {c.uses:>4}  "
              f"{c.success_rate:>7.2f}  {_short(c.trigger, 60)}")
    return 0


@cli_errors
def show_cli(capsule_id: str, store: str | None = None, *, as_json: bool = False) -> int:
    """`capsules show ID`: every field, the Beta posterior and the with/without deltas."""
    from atlas_sre.capsules.admin import details

    with open_store(store) as s:
        d = details(resolve_id(s, capsule_id))
    if as_json:
        _emit(d)
        return 0
    post = d["posterior"]
    print(f"{d['id']}  {d['skill']}  v{d['version']}  {d['status']}  (source: {d['source']})")
    print(f"trigger: {d['trigger']}")
    if d["root_cause"]:
        print(f"root cause: {d['root_cause']['kind']} / {d['root_cause']['category']}")
    print("procedure:")
    print("\n".join(f"  {i}. {step}" for i, step in enumerate(d["procedure"], 1)))
    if d["commands"]:
        print("commands:\n" + "\n".join(f"  {cmd}" for cmd in d["commands"]))
    if d["evidence"]:
        shown = (e["pattern"] + (" (regex)" if e["regex"] else "") for e in d["evidence"])
        print("evidence: " + "; ".join(shown))
    print(f"uses {d['uses']}, successes {d['successes']}, failures {d['failures']}; "
          f"baseline successes {d['baseline_successes']}, failures {d['baseline_failures']}")
    print(f"success rate {post['mean']:.4f} = mean of Beta({post['alpha']:g}, {post['beta']:g}) "
          f"(prior Beta({d['prior_alpha']:g}, {d['prior_beta']:g})), sd {post['sd']:.4f}, "
          f"lower bound {post['lower_bound']:.4f}; without: {d['baseline_posterior']['mean']:.4f}")
    tokens = "n/a" if d["tokens_delta_mean"] is None else f"{d['tokens_delta_mean']:+.1f}"
    seconds = "n/a" if d["time_delta_mean"] is None else f"{d['time_delta_mean']:+.2f} s"
    print(f"tokens delta (with - without) mean {tokens} over {d['tokens_delta_n']} uses; "
          f"time delta mean {seconds} over {d['time_delta_n']} uses")
    print(f"created {d['created_at']}, updated {d['updated_at']}, last used {d['last_used_at']}")
    if d["metadata"]:
        print(f"metadata: {json.dumps(d['metadata'], sort_keys=True)}")
    return 0


@cli_errors
def search_cli(text: str, store: str | None = None, *, k: int = 5, as_json: bool = False) -> int:
    """`capsules search "incident text" [-k N]`: ranked hits with scores and why they matched."""
    from atlas_sre.capsules.admin import CliError
    from atlas_sre.capsules.retrieval import CapsuleRetriever

    if not text.strip():
        raise CliError("search needs some incident text")
    with open_store(store) as s:
        hits = CapsuleRetriever(s).retrieve(text, top_k=max(1, k))
    rows = [{"id": h.capsule.id, "skill": h.capsule.skill, "score": h.score, "why": h.why,
             "status": h.capsule.status.value, "success_rate": round(h.capsule.success_rate, 6),
             "trigger": h.capsule.trigger, "term_scores": h.term_scores} for h in hits]
    if as_json:
        _emit(rows)
        return 0
    if not rows:
        print("no capsule matches")
    for n, r in enumerate(rows, 1):
        print(f"{n}. {r['id']}  {r['skill']}  score {r['score']:.3f}  success {r['success_rate']:.2f}")
        print(f"   why: {r['why']}")
    return 0


@cli_errors
def import_cli(path: str, store: str | None = None, *, as_json: bool = False) -> int:
    """`capsules import FILE` (`-` = stdin): a JSON list, one capsule (the seed's format) or
    `{"capsules": [...]}`."""
    from pydantic import ValidationError

    from atlas_sre.capsules.admin import CliError, one_line

    if is_store(path, existing=True):
        return _copy_library(path, store, as_json=as_json)
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise CliError(f"{path} is not valid JSON: {exc.msg} ({where})") from None
    if not isinstance(data, (list, dict)):
        raise CliError(f"{path}: expected a JSON list or object of capsules, got {type(data).__name__}")
    with open_store(store, write=True) as s:
        try:
            ids = s.import_json(data)
        except ValidationError as exc:
            raise CliError(f"{path}: invalid capsule: {one_line(exc)}") from None
        except (ValueError, KeyError) as exc:
            raise CliError(f"{path}: {exc}") from None
        where = s.path
    if as_json:
        _emit({"imported": ids, "store": str(where)})
    else:
        print(f"imported {len(ids)} capsule{'s' if len(ids) != 1 else ''} into {where}")
    return 0


@cli_errors
def export_cli(path: str | None = None, store: str | None = None, *, status: str | None = None) -> int:
    """`capsules export [FILE]`: the JSON list (seed-compatible keys included) to FILE or stdout."""
    from atlas_sre.capsules.admin import CliError

    if path is not None and is_store(path, existing=False):
        if status is not None:
            raise CliError("--status filters JSON exports; a store-to-store copy moves every capsule")
        return _copy_library(store, path)
    with open_store(store) as s:
        text = s.export_json(status=_status(status))
    if path is None or path == "-":
        print(text)
        return 0
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"exported {len(json.loads(text))} capsules to {path}")
    return 0


def is_store(target: str, *, existing: bool) -> bool:
    """Whether an export/import argument names a capsule store rather than a JSON file: a
    postgresql:// URL, a SQLite file (by its header), or (`existing=False`) a new .sqlite/.db path."""
    from atlas_sre.capsules.pg import is_url

    if is_url(target):
        return True
    p = Path(target)
    if p.is_file():
        with p.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    return not existing and p.suffix in {".sqlite", ".sqlite3", ".db"}


def _copy_library(src: str | None, dst: str | None, *, as_json: bool = False) -> int:
    """Copy every capsule row verbatim (statistics, status, birth incident) and incidents_seen from
    one store to another: the move between SQLite and PostgreSQL (docs/capsules.md)."""
    with open_store(src) as source:
        rows, seen = source.dump_rows()
        src_name = source.path
    with open_store(dst, write=True) as target:
        target.load_rows(rows, seen)
        dst_name, total = target.path, target.count()
    if as_json:
        _emit({"copied": len(rows), "from": str(src_name), "to": str(dst_name), "capsules": total})
    else:
        print(f"copied {len(rows)} capsule{'s' if len(rows) != 1 else ''} from {src_name} to {dst_name} "
              f"({total} there now)")
    return 0


@cli_errors
def feedback_cli(target: str, success: bool, store: str | None = None, *, as_json: bool = False) -> int:
    """`capsules feedback ID|RUN --correct|--wrong`: settle a saved run, else one capsule's pending use.

    A RUN (its id, a unique id prefix, or the path of `runs/<id>.json`) is looked up first, so a run
    is never mistaken for a capsule: capsule ids start with `cap-`, run ids with a timestamp.
    """
    from atlas_sre.capsules.admin import CliError, details
    from atlas_sre.capsules.outcomes import feedback
    from atlas_sre.capsules.runs import RunError, find_run, runs_dir

    try:
        run = None if target.startswith("cap-") else find_run(default_store_path_of(store), target)
    except RunError as exc:
        raise CliError(str(exc)) from None
    if run is not None:
        return _settle(run, success, store, as_json)
    with open_store(store, write=True) as s:
        try:
            found = resolve_id(s, target)
        except CliError:
            if target.startswith("cap-"):
                raise
            raise CliError(f"no saved run {target!r} in {runs_dir(s.path)} and no capsule with that id in "
                           f"{s.path}") from None
        c = feedback(s, found.id, success)
    if as_json:
        _emit(details(c))
    else:
        verdict = "success" if success else "failure"
        print(f"{c.id}: {verdict} recorded (uses {c.uses}, successes {c.successes}, failures {c.failures}, "
              f"success rate {c.success_rate:.3f}, {c.status.value})")
    return 0


def default_store_path_of(store: str | None) -> Path | str:
    """The store the command works on (`--store`, else the environment, else the default): a path,
    or a PostgreSQL URL with its password redacted (this is for finding runs and for printing)."""
    from atlas_sre.capsules.pg import redact
    from atlas_sre.capsules.store import store_location

    where = store_location(store)
    return redact(where) if isinstance(where, str) else where


def _settle(run: Path, correct: bool, store: str | None, as_json: bool) -> int:
    """Apply the verdict to a saved run in the store it was saved for (unless `--store` says otherwise)."""
    from atlas_sre.capsules.admin import CliError
    from atlas_sre.capsules.runs import RunError, load_run, settle_run

    try:
        target = store or load_run(run).get("store")
        with open_store(target, write=True) as s:
            data, _ = settle_run(s, run, correct)
            count = s.count()
    except RunError as exc:
        raise CliError(str(exc)) from None
    fb = data["feedback"]
    if as_json:
        _emit({"run": data["id"], "path": str(run), "store": str(default_store_path_of(target)),
               "capsules": count, **fb})
        return 0
    verdict = "correct" if correct else "wrong"
    print(f"run {data['id']}: marked {verdict}; resolved {len(fb['resolved_uses'])} pending capsule use(s)")
    for c in fb["learnt"]:
        print(f"  {c['action']} {c['id']} {c['skill']} ({c['status']}, from {c['entity']})")
    if correct and not fb["learnt"]:
        print("  nothing learnt: no command output showed the evidence the diagnosis cited")
    print(f"{count} capsule{'s' if count != 1 else ''} in {default_store_path_of(target)}")
    return 0


@cli_errors
def prune_cli(store: str | None = None, *, config: str | None = None, dry_run: bool = False,
              baseline_rate: float | None = None, as_json: bool = False) -> int:
    """`capsules prune [--dry-run] [--config FILE]`: apply the pruning rules; print and log each decision."""
    from atlas_sre.capsules.admin import load_pruning_config
    from atlas_sre.capsules.pruning import prune

    cfg = load_pruning_config(config)
    with open_store(store, write=not dry_run) as s:
        decisions = prune(s, cfg, baseline_rate=baseline_rate, dry_run=dry_run)
    if as_json:
        _emit({"dry_run": dry_run, "config": cfg.model_dump(), "decisions": [d.model_dump(mode="json")
                                                                          for d in decisions]})
        return 0
    for d in decisions:
        change = f"{d.old_status.value} -> {d.new_status.value}"
        print(f"{d.capsule_id} ({d.skill}): {change} [{d.rule}] {d.reason}")
    suffix = " (dry run: nothing changed)" if dry_run else ""
    print(f"{len(decisions)} decision{'s' if len(decisions) != 1 else ''}{suffix}")
    return 0


@cli_errors
def stats_cli(store: str | None = None, *, as_json: bool = False, top: int = 5) -> int:
    """`capsules stats`: counts by status, mean success, top capsules."""
    from atlas_sre.capsules.admin import store_stats

    with open_store(store) as s:
        st = store_stats(s, top)
    if as_json:
        _emit(st)
        return 0
    print(f"{st['capsules']} capsules in {st['store']}: "
          + ", ".join(f"{n} {k}" for k, n in st["by_status"].items()))
    pooled = "n/a" if st["pooled_success"] is None else f"{st['pooled_success']:.3f}"
    mean = "n/a" if st["mean_success_rate"] is None else f"{st['mean_success_rate']:.3f}"
    print(f"uses {st['uses']} (successes {st['successes']}, failures {st['failures']}); "
          f"pooled success {pooled}; mean success rate of active+provisional {mean}; "
          f"incidents seen {st['incidents_seen']}")
    if st["tokens_delta_mean"] is not None:
        print(f"tokens delta per use (with - without): {st['tokens_delta_mean']}")
    for n, c in enumerate(st["top"], 1):
        print(f"  {n}. {c['id']}  {c['skill']}  uses {c['uses']}  "
              f"success {c['success_rate']:.2f}  {c['status']}")
    return 0
