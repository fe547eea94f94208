"""The LLM teacher's prompt templates as data: overridable, checkable, written to and read from a folder.

`atlas-sre train prompts` evolves the teacher's templates (GEPA) and writes them under the packaged
file names; `--teacher-prompts DIR` reads them back. A template is `string.Template` text like the
packaged ones, and may use only the placeholders its packaged original uses: the teacher supplies
no other value, so an unknown `$name` would fail at the first incident instead of at load time.
Rewritten text (a reflection model's) gets its stray `$` escaped by `as_template`, so "costs $5" stays
text; a folder's files are checked strictly, since a person wrote or edited them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from string import Template

from atlas_sre.agents.prompting import template

TEACHER_PROMPTS: tuple[str, ...] = ("teacher_system", "teacher_probe", "teacher_correct_light",
                                    "teacher_correct_medium", "teacher_correct_heavy", "teacher_checks")
"""Every template the LLM teacher renders (`LLMTeacher`), in the order a person reads them."""

_PLACEHOLDER = re.compile(r"\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\}|())", re.IGNORECASE)


def placeholders(text: str) -> list[str]:
    """The `$names` a template text uses, in order of first use (`$$` is an escaped dollar, not one)."""
    names = [m.group(2) or m.group(3) for m in _PLACEHOLDER.finditer(text) if m.group(2) or m.group(3)]
    return list(dict.fromkeys(names))


def allowed_placeholders(name: str) -> frozenset[str]:
    """The values the teacher supplies to template `name`: the packaged template's placeholders."""
    if name not in TEACHER_PROMPTS:
        raise ValueError(f"unknown teacher prompt {name!r}; known: {', '.join(TEACHER_PROMPTS)}")
    return frozenset(placeholders(template(name).template))


def check_template(name: str, text: str) -> None:
    """A ValueError (one line) when `text` cannot stand in for template `name`."""
    if not text.strip():
        raise ValueError(f"teacher prompt {name} is empty")
    unknown = [p for p in placeholders(text) if p not in allowed_placeholders(name)]
    if unknown:
        raise ValueError(f"teacher prompt {name} uses ${unknown[0]}, which the teacher does not supply "
                         f"(it supplies: {', '.join('$' + p for p in sorted(allowed_placeholders(name))) or 'none'}; "
                         f"write $$ for a literal dollar)")
    try:
        Template(text).substitute({p: "" for p in allowed_placeholders(name)})
    except ValueError as exc:
        raise ValueError(f"teacher prompt {name}: {exc} (write $$ for a literal dollar)") from None


def as_template(name: str, text: str) -> str:
    """`text` with every `$` that is not one of the template's placeholders escaped (`$$`).

    Why: a rewritten prompt is a model's prose; "$5" or "$HOME" in it is meant literally, and must
    not make the teacher fail (or silently drop text) at render time.
    """
    allowed = allowed_placeholders(name)

    def keep(match: re.Match[str]) -> str:
        named = match.group(2) or match.group(3)
        return match.group(0) if match.group(1) or named in allowed else "$" + match.group(0)

    return _PLACEHOLDER.sub(keep, text)


def packaged_prompts(names: tuple[str, ...] = TEACHER_PROMPTS) -> dict[str, str]:
    """The packaged texts of the named templates (the seed a prompt evolution starts from)."""
    return {name: template(name).template for name in names}


def checked_prompts(prompts: Mapping[str, str]) -> dict[str, str]:
    """`prompts` validated (names and placeholders); a ValueError names the first problem."""
    for name, text in prompts.items():
        if name not in TEACHER_PROMPTS:
            raise ValueError(f"unknown teacher prompt {name!r}; known: {', '.join(TEACHER_PROMPTS)}")
        check_template(name, text)
    return dict(prompts)


def load_teacher_prompts(folder: str | Path) -> dict[str, str]:
    """The `<name>.md` files of `folder` that name teacher templates, checked; other files are ignored.

    A folder with none of them is an error: `--teacher-prompts` pointing at the wrong place must
    not quietly run the packaged prompts.
    """
    path = Path(folder)
    if not path.is_dir():
        raise ValueError(f"--teacher-prompts {path}: no such folder")
    found = {name: (path / f"{name}.md").read_text(encoding="utf-8")
             for name in TEACHER_PROMPTS if (path / f"{name}.md").is_file()}
    if not found:
        raise ValueError(f"--teacher-prompts {path}: no teacher prompt files in it "
                         f"(expected some of {', '.join(n + '.md' for n in TEACHER_PROMPTS)})")
    try:
        return checked_prompts(found)
    except ValueError as exc:
        raise ValueError(f"--teacher-prompts {path}: {exc}") from None


def write_teacher_prompts(folder: str | Path, prompts: Mapping[str, str]) -> list[Path]:
    """Write each template as `<folder>/<name>.md` (the packaged file name); the written paths."""
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in checked_prompts(prompts).items():
        target = path / f"{name}.md"
        target.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        written.append(target)
    return written
