"""Build backend for the client distribution: setuptools, plus a copy of what it runs.

`studio_client` runs the studio's own pure libraries (`bundle`, `dsl`, `content`). They
live at the top of the repository, next to the studio, and change with it; so the
client's wheel and sdist are built from a staging folder holding this project's files
and a copy of those packages from the same checkout. The sdist therefore contains the
copies, and a wheel built from it (which has them in place already) is built as is.

The rule language's command line (`dsl/commands.py`, `dsl/__main__.py`) needs click and
is the studio's tool, not the client's, so it is left out.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from setuptools import build_meta

PROJECT = Path(__file__).resolve().parent.parent
REPOSITORY = PROJECT.parent.parent
VENDORED = ("studio_client", "bundle", "dsl", "content")
PROJECT_FILES = ("pyproject.toml", "README.md", "MANIFEST.in", "_build")
LEFT_OUT = {"dsl": {"commands.py", "__main__.py", "examples"}}


def _ignore(package: str) -> Callable[[str, list[str]], set[str]]:
    top = REPOSITORY / package

    def ignore(folder: str, names: list[str]) -> set[str]:
        skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo"))}
        if Path(folder) == top:
            skipped |= LEFT_OUT.get(package, set()) & set(names)
        return skipped

    return ignore


@contextmanager
def _staged() -> Iterator[None]:
    """Run a hook in a folder holding the project and the vendored packages."""
    if all((PROJECT / name / "__init__.py").is_file() for name in VENDORED):
        yield  # building from an sdist: the copies are already here
        return
    missing = [n for n in VENDORED if not (REPOSITORY / n / "__init__.py").is_file()]
    if missing:
        raise RuntimeError(f"cannot build pos-studio-client: {', '.join(missing)} not found in "
                           f"{REPOSITORY}; build it from a checkout of the studio's repository")
    with tempfile.TemporaryDirectory(prefix="pos-studio-client-") as folder:
        stage = Path(folder)
        for name in PROJECT_FILES:
            source = PROJECT / name
            if source.is_dir():
                shutil.copytree(source, stage / name,
                                ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(source, stage / name)
        shutil.copy2(REPOSITORY / "LICENSE", stage / "LICENSE")
        for name in VENDORED:
            shutil.copytree(REPOSITORY / name, stage / name, ignore=_ignore(name))
        previous = os.getcwd()
        os.chdir(stage)
        try:
            yield
        finally:
            os.chdir(previous)


def _absolute(path: str) -> str:
    return str(Path(path).resolve())


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    with _staged():
        return list(build_meta.get_requires_for_build_wheel(config_settings))


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    with _staged():
        return list(build_meta.get_requires_for_build_sdist(config_settings))


def prepare_metadata_for_build_wheel(metadata_directory: str,
                                     config_settings: dict[str, Any] | None = None) -> str:
    target = _absolute(metadata_directory)
    with _staged():
        return str(build_meta.prepare_metadata_for_build_wheel(target, config_settings))


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    target = _absolute(wheel_directory)
    metadata = _absolute(metadata_directory) if metadata_directory else None
    with _staged():
        return str(build_meta.build_wheel(target, config_settings, metadata))


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    target = _absolute(sdist_directory)
    with _staged():
        return str(build_meta.build_sdist(target, config_settings))
