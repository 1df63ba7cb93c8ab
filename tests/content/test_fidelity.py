"""mjml-python (MRML) against the official npm mjml, on every layout in the library.

The studio compiles with mjml-python for speed; this check keeps it honest: links,
images, visible text and the count of every tag must match what the reference produces.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from content.mjml import compile_mjml
from content.placeholders import protect_jinja, restore_jinja
from tests.content.conftest import DEMO, ROOT

REFERENCE = ROOT / "tools" / "mjml-reference"
INSTALL_HINT = (
    "node or the official npm mjml is not available; run `npm ci --ignore-scripts` in "
    "tools/mjml-reference (needs node 20+) to enable the fidelity check"
)

KITCHEN_SINK = """<mjml>
  <mj-head><mj-attributes><mj-all font-family="Arial" /></mj-attributes></mj-head>
  <mj-body>
    <mj-wrapper padding="10px" background-color="#eeeeee">
      <mj-section>
        <mj-group>
          <mj-column><mj-text>Left {{ customer.first_name }}</mj-text></mj-column>
          <mj-column><mj-text align="right">{% if data.x > 1 %}Right{% endif %}</mj-text></mj-column>
        </mj-group>
      </mj-section>
    </mj-wrapper>
    <mj-section>
      <mj-column>
        <mj-divider border-color="#cccccc" />
        <mj-spacer height="20px" />
        <mj-table><tr><td>{{ offer.headline }}</td><td>{{ offer.value }}</td></tr></mj-table>
        <mj-button href="{{ offer.cta_url }}">{{ offer.cta_label }}</mj-button>
        <mj-raw><p>raw {{ offer.terms }}</p></mj-raw>
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>"""


def library_layouts() -> dict[str, str]:
    layouts = {
        path.name: path.read_text(encoding="utf-8")
        for path in sorted((DEMO / "layouts").glob("*.mjml"))
    }
    layouts["kitchen_sink.mjml"] = KITCHEN_SINK
    return layouts


@dataclass
class Structure(HTMLParser):
    """What a reader of the email sees: tags, links, images and text."""

    tags: Counter[str] = field(default_factory=Counter)
    links: list[str | None] = field(default_factory=list)
    images: list[tuple[str | None, str | None]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    hidden: int = 0

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        values = dict(attrs)
        if tag == "a":
            self.links.append(values.get("href"))
        elif tag == "img":
            self.images.append((values.get("src"), values.get("alt")))
        elif tag in ("style", "title"):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.text.append(" ".join(data.split()))


def structure(html: str) -> Structure:
    parsed = Structure()
    parsed.feed(html)
    return parsed


@pytest.fixture(scope="module")
def reference_html() -> dict[str, str]:
    node = shutil.which("node")
    if node is None or not (REFERENCE / "node_modules" / "mjml").is_dir():
        pytest.skip(INSTALL_HINT)
    layouts = library_layouts()
    protected = {name: protect_jinja(source) for name, source in layouts.items()}
    completed = subprocess.run(
        [node, str(REFERENCE / "compile.js")],
        input=json.dumps([p for p, _ in protected.values()]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results = json.loads(completed.stdout)["results"]
    return {
        name: restore_jinja(result["html"], saved)
        for (name, (_, saved)), result in zip(protected.items(), results, strict=True)
    }


@pytest.mark.parametrize("name", sorted(library_layouts()))
def test_mjml_python_matches_the_official_mjml(name: str, reference_html: dict[str, str]) -> None:
    ours = structure(compile_mjml(library_layouts()[name]))
    theirs = structure(reference_html[name])
    assert ours.links == theirs.links
    assert ours.images == theirs.images
    assert ours.text == theirs.text
    assert ours.tags == theirs.tags
