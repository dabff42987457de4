"""The documentation cannot drift from the workspace.

* ``docs/architecture.md`` states the sibling-dependency graph and each library's public
  API in marked blocks; they must equal what the ``pyproject.toml`` files declare and what
  the packages export (``__all__`` and their public modules).
* Every relative link in the docs, the README and the packages' READMEs and changelogs
  leads to a file that exists, and every ``#anchor`` to a heading of its target (GitHub's
  slugs). External links are not fetched.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import textwrap
import tomllib
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
MEMBERS = sorted(
    p.parent for p in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]
)
LIBRARIES = [p for p in MEMBERS if p.parent.name == "libs"]


# --- the architecture document ------------------------------------------------------------


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert match, spec
    return normalise(match.group(1))


def declared_graph() -> dict[str, list[str]]:
    """``package`` (or ``package[extra]``) -> the workspace siblings it depends on."""
    members = {}
    for member in MEMBERS:
        project = tomllib.loads((member / "pyproject.toml").read_text())["project"]
        members[normalise(project["name"])] = project
    graph = {}
    for name, project in sorted(members.items()):
        graph[name] = sorted(
            {requirement_name(s) for s in project.get("dependencies", [])} & set(members)
        )
        for extra, specs in sorted(project.get("optional-dependencies", {}).items()):
            siblings = sorted({requirement_name(s) for s in specs} & set(members))
            if siblings:
                graph[f"{name}[{extra}]"] = siblings
    return graph


def render_graph(graph: dict[str, list[str]]) -> str:
    width = max(map(len, graph)) + 2
    libraries = sorted(k for k in graph if k.startswith("spaps-"))
    services = sorted(k for k in graph if not k.startswith("spaps-"))
    return "\n".join(
        f"{name:<{width}}-> {', '.join(graph[name]) or '(none)'}" for name in libraries + services
    )


def marked_block(text: str, marker: str) -> str:
    """The fenced block that follows ``<!-- marker -->`` (the marker may carry a note)."""
    match = re.search(
        rf"<!-- {re.escape(marker)}(?:[: ][^>]*)?-->\s*\n```[a-z]*\n(.*?)\n```", text, re.DOTALL
    )
    assert match, f"docs/architecture.md has no ```block after <!-- {marker} -->"
    return match.group(1)


def parse_graph(block: str) -> dict[str, list[str]]:
    graph = {}
    for line in block.splitlines():
        name, _, deps = line.partition("->")
        assert _, f"not 'package -> siblings': {line!r}"
        graph[name.strip()] = [] if deps.strip() == "(none)" else sorted(
            d.strip() for d in deps.split(",")
        )  # fmt: skip
    return graph


def public_modules(package: str) -> list[str]:
    module = importlib.import_module(package)
    found = [package]
    for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            found.append(info.name)
    return sorted(found)


def public_names(package: str) -> list[str]:
    return list(importlib.import_module(package).__all__)


def render_public_api(package: str) -> str:
    def wrap(label: str, items: list[str]) -> str:
        return textwrap.fill(
            ", ".join(items),
            width=92,
            initial_indent=f"{label + ':':<9}",
            subsequent_indent=" " * 9,
            break_on_hyphens=False,
        )

    return wrap("modules", public_modules(package)) + "\n" + wrap("names", public_names(package))


def parse_public_api(block: str) -> tuple[list[str], list[str]]:
    modules, _, names = block.partition("names:")
    assert modules.startswith("modules:"), block
    return (
        sorted(m.strip() for m in modules.removeprefix("modules:").split(",")),
        sorted(n.strip() for n in names.split(",") if n.strip()),
    )


def test_architecture_doc_sibling_graph_matches_the_pyprojects() -> None:
    documented = parse_graph(marked_block(ARCHITECTURE.read_text(), "sibling-graph"))
    declared = declared_graph()
    assert documented == declared, (
        "docs/architecture.md's sibling graph differs from the pyproject.toml files; "
        "the block should read:\n" + render_graph(declared)
    )


@pytest.mark.parametrize("library", LIBRARIES, ids=lambda p: p.name)
def test_architecture_doc_public_api_matches_the_package(library: Path) -> None:
    package = library.name.replace("-", "_")
    block = marked_block(ARCHITECTURE.read_text(), f"public-api: {package}")
    modules, names = parse_public_api(block)
    expected = render_public_api(package)
    hint = f"docs/architecture.md's block for {package} should read:\n{expected}"
    assert modules == public_modules(package), hint
    assert names == sorted(public_names(package)), hint


def test_architecture_doc_covers_every_member() -> None:
    text = ARCHITECTURE.read_text()
    for member in MEMBERS:
        assert f"`{member.relative_to(ROOT).as_posix()}`" in text or member.name in text


def test_architecture_doc_parsers_reject_a_wrong_graph() -> None:
    text = "<!-- sibling-graph -->\n```text\nspaps-a -> (none)\nspaps-b -> spaps-a, spaps-c\n```\n"
    graph = parse_graph(marked_block(text, "sibling-graph"))
    assert graph == {"spaps-a": [], "spaps-b": ["spaps-a", "spaps-c"]}
    assert graph != {"spaps-a": [], "spaps-b": ["spaps-a"]}
    block = "modules: p, p.x\nnames:   A, b,\n         C"
    assert parse_public_api(block) == (["p", "p.x"], ["A", "C", "b"])


# --- links ----------------------------------------------------------------------------------

DOCUMENTS = sorted(
    {
        *ROOT.glob("docs/**/*.md"),
        ROOT / "README.md",
        *ROOT.glob("libs/*/README.md"),
        *ROOT.glob("libs/*/CHANGELOG.md"),
        *ROOT.glob("services/*/README.md"),
    }
)
FENCE = re.compile(r"^\s*(```|~~~)")
INLINE_LINK = re.compile(  # [text](target "title"), ![alt](target)
    r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)"
)
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_LINK = re.compile(r"""<(?:a|img)\s[^>]*?(?:href|src)=["']([^"']+)["']""")
HTML_ANCHOR = re.compile(r"""<a\s[^>]*?(?:name|id)=["']([^"']+)["']""")
CODE_SPAN = re.compile(r"(`+).*?\1")


def prose_lines(text: str, *, blank_code: bool = True) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, inline code spans blanked."""
    lines, fenced = [], False
    for number, raw in enumerate(text.splitlines(), 1):
        if FENCE.match(raw):
            fenced = not fenced
        elif not fenced:
            line = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), raw) if blank_code else raw
            lines.append((number, line))
    return lines


def links(text: str) -> list[tuple[int, str]]:
    found = []
    for number, line in prose_lines(text):
        for pattern in (INLINE_LINK, REFERENCE, HTML_LINK):
            for match in pattern.finditer(line):
                found.append((number, match.group(1).strip("<>")))
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: rendered text, lower case, punctuation dropped."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images -> text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = re.sub(r"(\*+|`+|(?<!\w)_+|_+(?!\w))", "", text)  # emphasis and code marks
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    previous = ""
    for _, line in prose_lines(text, blank_code=False):
        heading = None
        atx = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if atx:
            heading = atx.group(1)
        elif re.match(r"^\s{0,3}(=+|-+)\s*$", line) and previous.strip():
            heading = previous.strip()  # setext heading
        if heading is not None:
            base = slug(heading)
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(base if count == 0 else f"{base}-{count}")
        found |= set(HTML_ANCHOR.findall(line))
        previous = line
    return found


def broken_links(document: Path, root: Path = ROOT) -> list[str]:
    """``path:line: link: ...`` for every relative link of ``document`` that leads nowhere."""
    problems = []
    text = document.read_text()
    where = document.relative_to(root).as_posix()
    for number, target in links(text):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http(s), mailto: not fetched
        path_part, _, anchor = target.partition("#")
        path = (document.parent / unquote(path_part)).resolve() if path_part else document
        if not path.exists():
            problems.append(f"{where}:{number}: link: {target!r}: no such file")
            continue
        if not path.is_relative_to(root.resolve()):
            problems.append(f"{where}:{number}: link: {target!r}: outside the repository")
            continue
        if not anchor:
            continue
        if path.suffix == ".md":
            if unquote(anchor) not in anchors(path.read_text()):
                problems.append(f"{where}:{number}: link: {target!r}: no heading #{anchor}")
        elif path.is_dir() or not re.fullmatch(r"L\d+(-L\d+)?", anchor):
            problems.append(f"{where}:{number}: link: {target!r}: anchor into a non-Markdown file")
    return problems


def test_link_check_covers_the_documents() -> None:
    assert ROOT / "README.md" in DOCUMENTS
    assert ARCHITECTURE in DOCUMENTS
    assert any(p.name == "CHANGELOG.md" for p in DOCUMENTS)
    assert sum(len(links(p.read_text())) for p in DOCUMENTS) > 30


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_resolve(document: Path) -> None:
    problems = broken_links(document)
    assert not problems, "\n".join(problems)


def test_link_check_catches_broken_links(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text(
        "# Other page\n\n## The `code` and *emphasis*: part 1\n\n## Twice\n\n## Twice\n"
        'Setext\n------\n<a name="custom"></a>\n'
    )
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n"
        "[ok](other.md) [ok](other.md#other-page) [ok](other.md#the-code-and-emphasis-part-1)\n"
        "[ok](other.md#twice-1) [ok](other.md#setext) [ok](other.md#custom) [ok](#page)\n"
        "[ok](https://example.invalid/x) [ok](mailto:a@example.invalid) `[no](code.md)`\n"
        "[broken](missing.md)\n"
        "[broken](other.md#nowhere)\n"
        "![broken image](img/none.png)\n"
        "[ref]: ./gone.md\n"
        "```\n[in a fence](fence.md)\n```\n"
        "[broken](#twice-2)\n"
    )
    assert broken_links(page, tmp_path) == [
        "page.md:5: link: 'missing.md': no such file",
        "page.md:6: link: 'other.md#nowhere': no heading #nowhere",
        "page.md:7: link: 'img/none.png': no such file",
        "page.md:8: link: './gone.md': no such file",
        "page.md:12: link: '#twice-2': no heading #twice-2",
    ]


def test_link_check_slugs_like_github() -> None:
    assert slug("HTMA reference ranges") == "htma-reference-ranges"
    assert slug("ADR 0001: one uv workspace, one library per directory") == (
        "adr-0001-one-uv-workspace-one-library-per-directory"
    )
    assert slug("`spaps-ops` — the app shell") == "spaps-ops--the-app-shell"
