"""The package as the Dockerfile builds it: a wheel made from only the files the Dockerfile copies holds every
file of the source packages, code and data (migrations, the demo catalog, the web chat's page), and works
installed away from the source tree. The tests install the project editable, which would hide a file left
out of the wheel."""
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def copied_by_the_dockerfile() -> list[str]:
    """The paths the build stage copies into its /src (`COPY a b ./`, `COPY bot ./bot`)."""
    build_stage = (ROOT / "Dockerfile").read_text().split("\nFROM ", 2)[1]
    paths = []
    for line in re.findall(r"^COPY (?!--)(.+)$", build_stage, re.M):
        paths += line.split()[:-1]
    return paths


def pip(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "pip", "-q", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]


def build_wheel(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for name in copied_by_the_dockerfile():
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, src / name)
    out = tmp_path / "wheels"
    pip("wheel", "--no-deps", "--wheel-dir", str(out), str(src))
    (wheel,) = out.glob("tuanbot-*.whl")
    return wheel


def source_files() -> set[str]:
    """Every file of the packages pyproject.toml ships, under their top-level directories."""
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    out = set()
    for top in sorted({p.split(".")[0] for p in packages}):
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                out.add(path.relative_to(ROOT).as_posix())
    return out


def test_the_wheel_built_from_what_the_dockerfile_copies_holds_every_file_and_runs_away_from_the_source(tmp_path):
    wheel = build_wheel(tmp_path)
    held = set(zipfile.ZipFile(wheel).namelist())
    assert source_files() - held == set()

    site = tmp_path / "site"
    pip("install", "--no-deps", "--target", str(site), str(wheel))
    # Migrate a new database, load the demo and open the web chat, from the installed copy only: run in an
    # empty directory with the installed copy first on the path (the other packages come from the venv).
    script = """
import sys
from datetime import datetime, timezone
import bot, catalog, storage
assert all(m.__file__.startswith(sys.argv[1]) for m in (bot, catalog, storage)), (bot.__file__, sys.argv[1])
from fastapi.testclient import TestClient
from bot.app import create_app
from bot.settings import load_settings
from catalog.demo import load_demo
from storage.db import Database
from storage.migrate import upgrade
db = Database("sqlite:///t.db")
upgrade(db)
assert load_demo(db, datetime(2026, 12, 1, tzinfo=timezone.utc))
client = TestClient(create_app(load_settings(database_url=db.url, web_chat=True), db=db))
for path in ("/chat", "/chat/chat.js", "/chat/chat.css"):
    assert client.get(path).status_code == 200, path
print("ok")
"""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run([sys.executable, "-c", script, str(site)], cwd=elsewhere, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
