"""The workspace as files: exported for review, edited, imported back as drafts (all or nothing)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from studio.cli import main
from studio.models import Artifact


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    import studio.app

    url = f"sqlite:///{tmp_path / 'studio.sqlite3'}"
    monkeypatch.setenv("STUDIO_DATABASE_URL", url)
    monkeypatch.setattr(studio.app, "DEFAULT_INSTANCE", tmp_path / "instance")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(main, ["demo"]).exit_code == 0
    return url


def _heads(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with Session(engine) as session:
        heads = {f"{a.kind}:{a.key}": a.head_number for a in session.scalars(select(Artifact))}
    engine.dispose()
    return heads


def test_an_export_is_readable_files_and_importing_it_unchanged_changes_nothing(
    demo: str, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    runner = CliRunner()
    exported = runner.invoke(main, ["workspace", "export", str(folder)])
    assert exported.exit_code == 0, exported.output
    manifest = json.loads((folder / "workspace.json").read_text())
    assert manifest["format"] == "pos-studio-workspace/1"
    kinds = {item["kind"] for item in manifest["artifacts"]}
    assert {"offer", "layout", "ruleset"} <= kinds
    sources = "".join(p.read_text() for p in (folder / "rulesets").glob("*.rules"))
    assert "never offer when" in sources  # rule source, readable as written
    assert any((folder / "layouts").glob("*.mjml"))
    if "lexicon" in kinds:
        assert (folder / "lexicon.txt").read_text().strip()
    assert "policy" in kinds  # the demo's contact policy, as its source
    assert "at most" in (folder / "policy.policy").read_text()
    before = _heads(demo)

    again = runner.invoke(main, ["workspace", "import", str(folder), "--author", "sam@demo.studio"])

    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated" in again.output
    assert _heads(demo) == before


def test_an_edited_file_becomes_a_draft_and_a_bad_one_stores_nothing(
    demo: str, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    runner = CliRunner()
    assert runner.invoke(main, ["workspace", "export", str(folder)]).exit_code == 0
    ruleset = sorted((folder / "rulesets").glob("*.rules"))[0]
    ruleset.write_text(ruleset.read_text() + "\nnever offer when tone is negative\n")
    before = _heads(demo)

    offer_file = sorted((folder / "offers").glob("*.json"))[0]
    good_offer = offer_file.read_text()
    broken = json.loads(good_offer)
    broken["blocks"]["headline"] = ""
    offer_file.write_text(json.dumps(broken))
    refused = runner.invoke(
        main, ["workspace", "import", str(folder), "--author", "sam@demo.studio"]
    )
    assert refused.exit_code == 1
    assert f"offers/{offer_file.stem}.json" in refused.output
    assert "Nothing was imported" in refused.output
    assert _heads(demo) == before

    offer_file.write_text(good_offer)
    imported = runner.invoke(
        main, ["workspace", "import", str(folder), "--author", "sam@demo.studio"]
    )
    assert imported.exit_code == 0, imported.output
    assert "1 updated" in imported.output
    after = _heads(demo)
    assert after[f"ruleset:{ruleset.stem}"] == before[f"ruleset:{ruleset.stem}"] + 1
    assert {k: v for k, v in after.items() if k != f"ruleset:{ruleset.stem}"} == {
        k: v for k, v in before.items() if k != f"ruleset:{ruleset.stem}"
    }


def test_a_folder_that_is_not_an_export_is_refused(demo: str, tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "workspace.json").write_text('{"format": "something else"}')
    result = CliRunner().invoke(
        main, ["workspace", "import", str(tmp_path / "junk"), "--author", "sam@demo.studio"]
    )
    assert result.exit_code == 1 and "is not a workspace export" in result.output
