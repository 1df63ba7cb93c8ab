"""The client distribution installs and decides on its own, without the studio's stack.

`pip install clients/python` goes into a fresh virtual environment (the real build
backend, the real dependency resolution; packages come from the pip cache or the
index). A separate interpreter of that environment, in isolated mode and outside the
checkout, then fetches the live studio's signed bundle and decides locally; the answer
must be the studio's own `/decide` answer, and Flask, SQLAlchemy, psycopg and the rest of
the web stack must not even be importable there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from studio_client import StudioClient
from tests.api.conftest import CHECKBOOK, STOLEN_CARD, LiveStudio

REPOSITORY = Path(__file__).resolve().parents[2]
CLIENT_PROJECT = REPOSITORY / "clients" / "python"
#: Top-level modules of the studio and its web and analysis stack.
STUDIO_ONLY = (
    "flask",
    "werkzeug",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "PIL",
    "pygal",
    "vaderSentiment",
    "click",
    "studio",
    "preview",
)

CHILD = """
import importlib.util, json, sys
args = json.loads(sys.argv[1])
importable = [name for name in args["studio_only"] if importlib.util.find_spec(name)]
import studio_client
client = studio_client.StudioClient(args["url"], args["token"], args["keys"], args["cache"])
status = client.refresh()
decisions = [client.decide(interaction) for interaction in args["interactions"]]
print(json.dumps({"importable": importable, "status": status, "decisions": decisions,
                  "client_file": studio_client.__file__,
                  "loaded": sorted({name.split(".")[0] for name in sys.modules})}))
"""


def _without_history(decision: dict) -> dict:
    return {**decision, "policy": {k: v for k, v in decision["policy"].items() if k != "history"}}


def _clean_environment() -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PIP_TARGET", "PIP_PREFIX", "PIP_USER")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _install_client(target: Path) -> Path:
    venv.create(target, with_pip=True, clear=True)
    python = target / "bin" / "python"
    installed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            str(CLIENT_PROJECT),
        ],
        cwd=target,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert installed.returncode == 0, f"pip install failed:\n{installed.stdout}\n{installed.stderr}"
    return python


@pytest.mark.packaging
@pytest.mark.timeout(600)
def test_the_client_installs_alone_and_decides_like_the_studio(
    live_studio: LiveStudio, tmp_path: Path
) -> None:
    started = time.perf_counter()
    python = _install_client(tmp_path / "venv")
    args = {
        "url": live_studio.url,
        "token": live_studio.token,
        "keys": live_studio.keys,
        "cache": str(tmp_path / "cache"),
        "interactions": [CHECKBOOK, STOLEN_CARD],
        "studio_only": list(STUDIO_ONLY),
    }
    ran = subprocess.run(
        [str(python), "-I", "-c", CHILD, json.dumps(args)],
        cwd=tmp_path,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    answer = json.loads(ran.stdout)

    assert answer["importable"] == []
    assert not set(STUDIO_ONLY) & set(answer["loaded"])
    assert Path(answer["client_file"]).is_relative_to(tmp_path / "venv")
    assert answer["status"] == "updated"
    studio = StudioClient(live_studio.url, live_studio.token, live_studio.keys, tmp_path / "s")
    expected = [studio.decide_remote(i) for i in (CHECKBOOK, STOLEN_CARD)]
    # Every decision has its own id; apart from it (and where the contact history is
    # kept), the same answers.
    assert all(d.pop("decision_id") for d in (*answer["decisions"], *expected))
    assert [_without_history(d) for d in answer["decisions"]] == [
        _without_history(d) for d in expected
    ]
    assert [o["offer"] for o in answer["decisions"][0]["offers"]] == ["overdraft_protection"]
    print(f"installed and decided in {time.perf_counter() - started:.1f} s", file=sys.stderr)
