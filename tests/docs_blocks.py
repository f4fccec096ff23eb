"""The code blocks of README.md and docs/: found, read with their markers, and run.

Every fenced block is ``python`` (run with ``exec``), ``bash`` (run by bash, one script per block)
or ``text`` (output, diagrams: nothing to run); an indented block is a shell block. The blocks of
one page run in order, in one fresh directory, Python blocks sharing one namespace, as a reader
would paste them one after the other. HTML comments on the lines just above a block change that:

- ``<!-- no-run: REASON -->``: not run (it needs a GPU, a cluster, installs packages ...); the
  reason is required and the block must still be valid Python if it is Python.
- ``<!-- small: "OLD" -> "NEW" -->``: the tests run the block with OLD replaced by NEW (a shorter
  budget); OLD must occur in the block, and the text should say that the tests shrink it.
- ``<!-- slow -->``: the block takes long; its page runs only in the slow set.
- ``<!-- files: PATH -->``: the block reads PATH of the repository (fixtures, as a reader in a
  checkout would); the tests copy it into the page's directory, at the same relative path,
  before the block runs.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
RUNNABLE = {"python", "bash"}
DATA = {"text"}
MARKER = re.compile(r"^<!--\s*(no-run|small|slow|files)\s*:?\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")
LIST_LINE = re.compile(r"^(\s|[-*] |\d+\. )")


def pages() -> list[Path]:
    """README and every Markdown page under docs/ (the site's own config folder holds none)."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def page_name(page: Path) -> str:
    """The page as the repository names it (any other path as it is)."""
    return page.relative_to(ROOT).as_posix() if ROOT in page.parents else str(page)


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the block's first code line
    language: str
    code: str
    markers: tuple[tuple[str, str], ...]

    @property
    def where(self) -> str:
        return f"{page_name(self.page)}:{self.line}"

    @property
    def no_run_reason(self) -> str | None:
        reasons = [value for key, value in self.markers if key == "no-run"]
        return reasons[0] if reasons else None

    @property
    def runs(self) -> bool:
        return self.language in RUNNABLE and self.no_run_reason is None

    @property
    def slow(self) -> bool:
        return any(key == "slow" for key, _ in self.markers)

    @property
    def files(self) -> list[Path]:
        """The repository paths the block reads (``files`` markers), each checked to exist."""
        found = []
        for key, value in self.markers:
            if key == "files":
                path = ROOT / value
                if not value or not path.exists() or ROOT not in path.resolve().parents:
                    raise ValueError(
                        f"{self.where}: files marker {value!r} is not in the repository"
                    )
                found.append(path)
        return found

    def substitutions(self) -> list[tuple[str, str]]:
        """The ``small`` markers' (OLD, NEW) pairs; a malformed one raises ValueError."""
        pairs = []
        for key, value in self.markers:
            if key != "small":
                continue
            old, arrow, new = value.partition("->")
            if not arrow:
                raise ValueError(f'{self.where}: small marker needs \'"OLD" -> "NEW"\'')
            pairs.append((ast.literal_eval(old.strip()), ast.literal_eval(new.strip())))
        return pairs

    def code_to_run(self) -> str:
        code = self.code
        for old, new in self.substitutions():
            if old not in code:
                raise ValueError(f"{self.where}: small marker's {old!r} is not in the block")
            code = code.replace(old, new)
        return code


def blocks(page: Path) -> list[Block]:
    """The page's code blocks in order, each with the markers on the lines just above it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    markers: list[tuple[str, str]] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        marker = MARKER.match(line.strip())
        fence = FENCE.match(line)
        if marker:
            markers.append((marker.group(1), marker.group(2)))
        elif fence:
            end = lines.index("```", index + 1)
            code = "\n".join(lines[index + 1 : end]) + "\n"
            found.append(Block(page, index + 2, fence.group(1), code, tuple(markers)))
            markers, index = [], end
        elif _starts_indented_block(lines, index):
            end = index
            while end < len(lines) and (lines[end].startswith("    ") or not lines[end]):
                end += 1
            code = "\n".join(text[4:] for text in lines[index:end]).strip() + "\n"
            found.append(Block(page, index + 1, "bash", code, tuple(markers)))
            markers, index = [], end - 1
        elif line.strip():
            markers = []
        index += 1
    return found


def _starts_indented_block(lines: list[str], index: int) -> bool:
    """A Markdown indented code block: four spaces after a blank line, outside a list."""
    if not lines[index].startswith("    ") or index == 0 or lines[index - 1].strip():
        return False
    previous = next((text for text in reversed(lines[:index]) if text.strip()), "")
    return not LIST_LINE.match(previous)


@dataclass
class Ran:
    """What one page's run left: its directory, and each block run with what it printed."""

    directory: Path
    outputs: list[tuple[Block, str]]
    namespace: dict

    def output_of(self, needle: str) -> str:
        (output,) = [out for block, out in self.outputs if needle in block.code]
        return output


_RUNS: dict[Path, Ran] = {}


def run_page(page: Path, directory_factory) -> Ran:
    """Run the page's runnable blocks once per test session (later callers share the result);
    *directory_factory* is pytest's ``tmp_path_factory``."""
    if page not in _RUNS:
        directory = directory_factory.mktemp(page.stem)
        namespace: dict = {"__name__": "docs_example"}
        outputs = [
            (block, _run(block, directory, namespace)) for block in blocks(page) if block.runs
        ]
        _RUNS[page] = Ran(directory, outputs, namespace)
    return _RUNS[page]


def _run(block: Block, directory: Path, namespace: dict) -> str:
    for source in block.files:
        target = directory / source.relative_to(ROOT)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    environment = {**os.environ, "HOME": str(directory), "MPLBACKEND": "Agg"}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    if block.language == "bash":
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.code_to_run()],
            cwd=directory,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise AssertionError(f"{block.where} exited {done.returncode}:\n{done.stderr}")
        return done.stdout
    printed = io.StringIO()
    saved = os.getcwd(), dict(os.environ)
    try:
        os.chdir(directory)
        os.environ["HOME"] = str(directory)
        with contextlib.redirect_stdout(printed):
            exec(compile(block.code_to_run(), block.where, "exec"), namespace)
    finally:
        os.chdir(saved[0])
        os.environ.clear()
        os.environ.update(saved[1])
    return printed.getvalue()
