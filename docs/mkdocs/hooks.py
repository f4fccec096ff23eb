"""MkDocs hook: serve the repository files the pages link to outside docs/ (the figures in
experiments/), so that one relative link works both on GitHub and in the built site.

A page links ``../../experiments/figures/gantt_sync.png``; GitHub resolves that in the checkout.
MkDocs only knows files under docs_dir, so here every such link to an existing file of the
repository becomes a site file ``repo/<path in the repository>`` (copied at build time, never
committed twice), and the link is rewritten to it. A link that leaves the repository, or names a
file that does not exist, is left alone for MkDocs's strict link check to report.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from mkdocs.structure.files import File, Files

LINK = re.compile(r"(\]\()([^)\s#]+)((?:#[^)\s]*)?\))")
SITE_FOLDER = "repo"


def _repository_path(page_uri: str, target: str, docs: Path, root: Path) -> str | None:
    """The repository path of a relative link that leaves docs/ for an existing file, else None."""
    if "://" in target or target.startswith(("/", "mailto:")):
        return None
    resolved = (docs / posixpath.dirname(page_uri) / target).resolve()
    if docs in resolved.parents or not resolved.is_file() or root not in resolved.parents:
        return None
    return resolved.relative_to(root).as_posix()


def _outside_links(markdown: str, page_uri: str, docs: Path, root: Path):
    for match in LINK.finditer(markdown):
        path = _repository_path(page_uri, match.group(2), docs, root)
        if path is not None:
            yield match, path


def on_files(files: Files, config) -> Files:
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    wanted = set()
    for page in files.documentation_pages():
        text = Path(page.abs_src_path).read_text(encoding="utf-8")
        wanted.update(path for _, path in _outside_links(text, page.src_uri, docs, root))
    for path in sorted(wanted):
        files.append(File.generated(config, f"{SITE_FOLDER}/{path}", abs_src_path=str(root / path)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    docs = Path(config["docs_dir"]).resolve()
    root = docs.parent
    page_dir = posixpath.dirname(page.file.src_uri)

    def rewrite(match: re.Match) -> str:
        path = _repository_path(page.file.src_uri, match.group(2), docs, root)
        if path is None:
            return match.group(0)
        target = posixpath.relpath(f"{SITE_FOLDER}/{path}", page_dir or ".")
        return f"{match.group(1)}{target}{match.group(3)}"

    return LINK.sub(rewrite, markdown)
