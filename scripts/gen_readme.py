#!/usr/bin/env python3
"""Generate the addon's README.rst and static/description/index.html from its
readme/ fragments, in the layout of OCA's ``oca-gen-addon-readme``
(OCA/maintainer-tools, not on PyPI): title, badges, description, table of
contents, Installation, Configuration, Usage, Known issues / Roadmap,
Changelog, Bug Tracker and Credits. The Odoo Apps screen shows index.html.

    python3 scripts/gen_readme.py                 # write both files
    python3 scripts/gen_readme.py --check         # exit 1 when not up to date
    python3 scripts/gen_readme.py --output-dir D  # write them under D instead

The fragments are Markdown (readme/DESCRIPTION.md, USAGE.md...); this script
converts the simple Markdown they use (paragraphs, "-" and "1." lists,
"#" headings, **bold**, *italic*, `code`, [links](url), fenced code blocks)
to reStructuredText itself, then docutils renders the HTML with OCA's
settings. Needs Python 3.10+ and docutils (Odoo requires it). docutils
versions render slightly different HTML: --check compares index.html only
with the version the committed file was made with (DOCUTILS_VERSION, Odoo
18's pin for Python 3.11+), and README.rst always.
"""

import argparse
import ast
import difflib
import hashlib
import json
import re
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADDON = REPO_ROOT / "crm_relationship"
DOCUTILS_VERSION = "0.20.1"

# fragment name: (section title, heading level of its own headings' base)
FRAGMENTS = {
    "DESCRIPTION": (None, 2),
    "CONTEXT": ("Use Cases / Context", 2),
    "INSTALL": ("Installation", 2),
    "CONFIGURE": ("Configuration", 2),
    "USAGE": ("Usage", 2),
    "DEVELOP": ("Development", 2),
    "ROADMAP": ("Known issues / Roadmap", 2),
    "HISTORY": ("Changelog", 2),
    "CONTRIBUTORS": ("Contributors", 3),
    "CREDITS": ("Other credits", 3),
}
# reST underline by section level (1-based): the title (with an overline too),
# sections, subsections (Credits' parts, a fragment's "##" headings), deeper
UNDERLINES = "==-~^"
MATURITY_BADGES = {
    "alpha": ("Alpha", "red"),
    "beta": ("Beta", "yellow"),
    "production/stable": ("Production%2FStable", "green"),
    "mature": ("Mature", "brightgreen"),
}
LICENSE_URLS = {
    "AGPL-3": "http://www.gnu.org/licenses/agpl-3.0-standalone.html",
    "LGPL-3": "http://www.gnu.org/licenses/lgpl-3.0-standalone.html",
    "GPL-3": "http://www.gnu.org/licenses/gpl-3.0-standalone.html",
}
# OCA's rst2html settings (from pypa/readme_renderer): no file insertion nor
# raw HTML, stop on any warning
RST2HTML_SETTINGS = {
    "file_insertion_enabled": False,
    "halt_level": 2,
    "math_output": "MathJax",
    "raw_enabled": False,
    "smart_quotes": True,
    "syntax_highlight": "short",
    "xml_declaration": False,
    "output_encoding": "utf-8",
}

# --------------------------------------------------------------------------
# Markdown fragments to reStructuredText
# --------------------------------------------------------------------------

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(.*)$")
CODE_SPAN = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
# a word ending with "_" is a reference in reST; "|" starts a substitution
TRAILING_UNDERSCORE = re.compile(r"(\w)_(?=[\s.,;:!?)\]'\"]|$)")


def _text(segment):
    """Plain Markdown text (no code span) as reST: links, escapes."""
    segment = segment.replace("\\", "\\\\").replace("|", "\\|")
    parts = []
    last = 0
    for match in LINK.finditer(segment):
        parts.append(TRAILING_UNDERSCORE.sub(r"\1\\_", segment[last : match.start()]))
        parts.append(f"`{match.group(1)} <{match.group(2)}>`__")
        last = match.end()
    parts.append(TRAILING_UNDERSCORE.sub(r"\1\\_", segment[last:]))
    return "".join(parts)


def inline(line):
    """One line of Markdown inline markup as reST (emphasis is the same)."""
    parts = []
    last = 0
    for match in CODE_SPAN.finditer(line):
        parts.append(_text(line[last : match.start()]))
        parts.append(f"``{match.group(1)}``")
        last = match.end()
    parts.append(_text(line[last:]))
    return "".join(parts)


def md_to_rst(text, base_level=2):
    """The Markdown ``text`` of a fragment as reST. As with OCA's pandoc
    conversion, "#" is a heading of ``base_level`` (the level of the
    fragment's own section) and "##" one level below."""
    out = []
    in_code = False
    item_indent = None  # indentation of the last list item's marker
    item_text = 0  # indentation of its text

    def blank():
        if out and out[-1]:
            out.append("")

    for line in text.splitlines():
        stripped = line.strip()
        if in_code:
            if stripped.startswith("```"):
                in_code = False
                out.append("")
            else:
                out.append("    " + line if stripped else "")
            continue
        if stripped.startswith("```"):
            blank()
            out.extend(["::", ""])
            in_code = True
            item_indent = None
            continue
        if not stripped:
            blank()
            item_indent = None
            continue
        heading = HEADING.match(line)
        if heading:
            level = base_level + len(heading.group(1)) - 1
            title = inline(heading.group(2))
            blank()
            out.extend([title, UNDERLINES[level - 1] * len(title), ""])
            item_indent = None
            continue
        item = ITEM.match(line)
        if item:
            indent = len(item.group(1))
            if item_indent is not None and indent != item_indent:
                blank()  # a nested list (or its end) needs a blank line in reST
            item_indent = indent
            item_text = indent + len(item.group(2)) + 1
            out.append(f"{item.group(1)}{item.group(2)} {inline(item.group(3))}")
            continue
        indent = len(line) - len(line.lstrip())
        if item_indent is not None:
            # Markdown's lazy continuation of an item: reST needs the indent
            indent = max(indent, item_text)
        out.append(" " * indent + inline(stripped))
    if in_code:
        raise ValueError("A fenced code block is not closed")
    while out and not out[-1]:
        out.pop()
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------
# README.rst
# --------------------------------------------------------------------------


def read_manifest(addon_dir):
    return ast.literal_eval((addon_dir / "__manifest__.py").read_text("utf-8"))


def read_fragments(addon_dir):
    """``{name: markdown}`` of the non-empty fragments in readme/."""
    fragments = {}
    for name in FRAGMENTS:
        if (addon_dir / "readme" / f"{name}.rst").exists():
            raise SystemExit(f"readme/{name}.rst: write the fragments in Markdown")
        path = addon_dir / "readme" / f"{name}.md"
        if path.exists() and path.read_text("utf-8").strip():
            fragments[name] = path.read_text("utf-8")
    if "DESCRIPTION" not in fragments:
        raise SystemExit(f"{addon_dir}/readme/DESCRIPTION.md is missing or empty")
    return fragments


def github_repo(manifest):
    """``(owner, name)`` of the manifest's GitHub website, else None."""
    match = re.match(
        r"https?://github\.com/([^/]+)/([^/#?]+)", manifest.get("website", "")
    )
    return match.groups() if match else None


def source_digest(addon_name, manifest, fragments, used_keys):
    """sha256 of what README.rst is made of (like OCA's "source digest")."""
    data = json.dumps(
        {
            "addon": addon_name,
            "manifest": {key: manifest.get(key) for key in used_keys},
            "fragments": fragments,
            "docutils": DOCUTILS_VERSION,
        },
        sort_keys=True,
    )
    return "sha256:" + hashlib.sha256(data.encode("utf-8")).hexdigest()


def section(title, body, level):
    char = UNDERLINES[level - 1]
    return f"{title}\n{char * len(title)}\n\n{body.rstrip()}\n"


def render_readme(addon_dir):
    addon_name = addon_dir.name
    manifest = read_manifest(addon_dir)
    fragments = read_fragments(addon_dir)
    branch = ".".join(manifest["version"].split(".")[:2])
    status = manifest.get("development_status", "Beta").lower()
    repo = github_repo(manifest)
    digest = source_digest(
        addon_name,
        manifest,
        fragments,
        ("name", "version", "license", "development_status", "author", "website"),
    )
    rst = {
        name: md_to_rst(text, FRAGMENTS[name][1]) for name, text in fragments.items()
    }

    name = manifest["name"]
    bar = "=" * len(name)
    parts = [
        f"{bar}\n{name}\n{bar}\n",
        "..\n"
        "   !! This file is generated by scripts/gen_readme.py from readme/*.md:\n"
        "   !! edit the fragments, then run it again.\n"
        f"   !! source digest: {digest}\n",
    ]
    badges = []
    if status in MATURITY_BADGES:
        label, color = MATURITY_BADGES[status]
        badges.append(
            (
                f"https://img.shields.io/badge/maturity-{label}-{color}.png",
                "https://odoo-community.org/page/development-status",
                label.replace("%2F", "/"),
            )
        )
    license_ = manifest.get("license")
    if license_ in LICENSE_URLS:
        badges.append(
            (
                "https://img.shields.io/badge/licence-"
                f"{license_.replace('-', '--')}-blue.png",
                LICENSE_URLS[license_],
                f"License: {license_}",
            )
        )
    if repo:
        owner, repo_name = repo
        badges.append(
            (
                "https://img.shields.io/badge/github-"
                f"{owner.replace('-', '--')}%2F{repo_name.replace('-', '--')}"
                "-lightgray.png?logo=github",
                f"https://github.com/{owner}/{repo_name}/tree/{branch}/{addon_name}",
                f"{owner}/{repo_name}",
            )
        )
    if badges:
        parts.append(
            "".join(
                f".. |badge{index}| image:: {image}\n"
                f"    :target: {target}\n"
                f"    :alt: {alt}\n"
                for index, (image, target, alt) in enumerate(badges, start=1)
            )
            + "\n"
            + " ".join(f"|badge{index}|" for index in range(1, len(badges) + 1))
            + "\n"
        )
    parts.append(rst["DESCRIPTION"])
    if status == "alpha":
        parts.append(
            ".. IMPORTANT::\n"
            "   This is an alpha version: the data model and the design may still\n"
            "   change without warning. Use it to develop and test, not in\n"
            "   production. `More details on development status\n"
            "   <https://odoo-community.org/page/development-status>`_\n"
        )
    parts.append("**Table of contents**\n\n.. contents::\n   :local:\n")
    for fragment in ("CONTEXT", "INSTALL", "CONFIGURE", "USAGE", "DEVELOP"):
        if fragment in rst:
            parts.append(section(FRAGMENTS[fragment][0], rst[fragment], 2))
    for fragment in ("ROADMAP", "HISTORY"):
        if fragment in rst:
            parts.append(section(FRAGMENTS[fragment][0], rst[fragment], 2))
    if repo:
        issues = f"https://github.com/{owner}/{repo_name}/issues"
        parts.append(
            section(
                "Bug Tracker",
                f"Bugs are tracked on `GitHub Issues\n<{issues}>`_.\n"
                "Please look there first whether your problem is already known;\n"
                "if not, `report it\n"
                f"<{issues}/new?body=module:%20{addon_name}%0A"
                f"version:%20{branch}%0A%0A**Steps%20to%20reproduce**%0A-%20..."
                "%0A%0A**Current%20behavior**%0A%0A**Expected%20behavior**>`_\n"
                "with the steps that reproduce it, what happens and what you\n"
                "expected.",
                2,
            )
        )
    authors = [a.strip() for a in manifest.get("author", "").split(",") if a.strip()]
    credits = ["Credits\n=======\n"]
    if authors:
        credits.append(
            section("Authors", "\n".join(f"- {author}" for author in authors), 3)
        )
    for fragment in ("CONTRIBUTORS", "CREDITS"):
        if fragment in rst:
            credits.append(section(FRAGMENTS[fragment][0], rst[fragment], 3))
    maintainers = "\n".join(
        f"- `{login} <https://github.com/{login}>`__"
        for login in manifest.get("maintainers", [])
    )
    project = (
        f"This module is part of the `{owner}/{repo_name}\n"
        f"<https://github.com/{owner}/{repo_name}/tree/{branch}/{addon_name}>`_\n"
        "project on GitHub. You are welcome to contribute."
        if repo
        else "You are welcome to contribute."
    )
    credits.append(
        section(
            "Maintainers",
            (f"Current maintainers:\n\n{maintainers}\n\n" if maintainers else "")
            + project,
            3,
        )
    )
    parts.append("\n".join(credits))
    return "\n".join(part.rstrip() + "\n" for part in parts)


# --------------------------------------------------------------------------
# index.html
# --------------------------------------------------------------------------


def render_index(readme_path, index_path):
    """index.html from README.rst with docutils, as oca-gen-addon-readme does
    (without the docutils version, so that the file changes only with it)."""
    from docutils.core import publish_file

    index_path.parent.mkdir(parents=True, exist_ok=True)
    publish_file(
        source_path=str(readme_path),
        destination_path=str(index_path),
        writer_name="html4css1",
        settings_overrides=RST2HTML_SETTINGS,
    )
    html = index_path.read_bytes()
    html = re.sub(rb"(<meta.*generator.*Docutils)\s*[\d.]+", rb"\1", html)
    index_path.write_bytes(html)


def generate(addon_dir, output_dir):
    """Write README.rst and static/description/index.html of ``addon_dir``
    under ``output_dir``; return their paths."""
    readme = output_dir / "README.rst"
    index = output_dir / "static" / "description" / "index.html"
    readme.parent.mkdir(parents=True, exist_ok=True)
    readme.write_text(render_readme(addon_dir), "utf-8")
    render_index(readme, index)
    return readme, index


def check(addon_dir):
    """0 when README.rst and index.html are what the fragments give, else 1
    (with a diff)."""
    import docutils

    compare_html = docutils.__version__ == DOCUTILS_VERSION
    stale = []
    with tempfile.TemporaryDirectory() as tmp:
        generated = generate(addon_dir, Path(tmp))
        for path in generated[: 2 if compare_html else 1]:
            relative = path.relative_to(tmp)
            committed = addon_dir / relative
            new = path.read_text("utf-8")
            old = committed.read_text("utf-8") if committed.exists() else ""
            if new != old:
                stale.append(str(relative))
                diff = difflib.unified_diff(
                    old.splitlines(True),
                    new.splitlines(True),
                    f"{addon_dir.name}/{relative} (committed)",
                    f"{addon_dir.name}/{relative} (from readme/)",
                )
                sys.stdout.writelines(list(diff)[:80])
    if not compare_html:
        print(
            f"index.html not compared: docutils {docutils.__version__} renders "
            f"other HTML than {DOCUTILS_VERSION}, the version it is made with"
        )
    if stale:
        print(
            f"Not up to date with {addon_dir.name}/readme/: {', '.join(stale)}. "
            "Run: python3 scripts/gen_readme.py"
        )
        return 1
    print(f"{addon_dir.name}/README.rst and index.html are up to date")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--addon-dir", type=Path, default=DEFAULT_ADDON, help="the addon folder"
    )
    parser.add_argument(
        "--output-dir", type=Path, help="write there instead of into the addon"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when the files differ from what readme/ gives",
    )
    args = parser.parse_args(argv)
    addon_dir = args.addon_dir.resolve()
    from docutils.utils import SystemMessage

    try:
        if args.check:
            return check(addon_dir)
        for path in generate(addon_dir, (args.output_dir or addon_dir).resolve()):
            print(f"wrote {path}")
    except (SystemMessage, ValueError) as error:
        # halt_level 2: any docutils warning on the generated reST stops here
        print(f"{addon_dir.name}/readme/ does not give valid reST: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
