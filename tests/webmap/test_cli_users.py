"""``lagesbild user``: non-interactive user management."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from webmap.cli import main


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        "LAGESBILD_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "LAGESBILD_INSTANCE_DIR": str(tmp_path / "inst"),
    }


def test_user_add_reads_password_from_stdin_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, **_env(tmp_path)}
    exe = Path(sys.executable).parent / "lagesbild"
    proc = subprocess.run(
        [str(exe), "user", "add", "anna", "--role", "reader", "--kommun", "norrtalje"],
        input="ett-bra-lösenord\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    listed = subprocess.run(
        [str(exe), "user", "list", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    data = json.loads(listed.stdout)
    assert [u["username"] for u in data["users"]] == ["anna"]
    assert data["users"][0]["kommuner"] == ["norrtalje"]
    assert "password" not in listed.stdout.lower()


def test_user_add_validates_and_disable_works(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    bad = runner.invoke(main, ["user", "add", "x", "--role", "reporter"], input="kort\n", env=env)
    assert bad.exit_code == 2
    assert "minst 8 tecken" in bad.output and "organisation" in bad.output
    ok = runner.invoke(
        main,
        ["user", "add", "skolan", "--role", "reporter", "--org", "Skolan", "--json"],
        input="långt-lösenord-1\n",
        env=env,
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["user"]["reporter_org"] == "Skolan"
    assert runner.invoke(main, ["user", "disable", "skolan"], env=env).exit_code == 0
    listed = json.loads(runner.invoke(main, ["user", "list", "--json"], env=env).output)
    assert listed["users"][0]["active"] is False
    missing = runner.invoke(main, ["user", "disable", "ingen"], env=env)
    assert missing.exit_code == 2 and "finns inte" in missing.output


def test_ensure_demo_creates_one_planner_once(tmp_path: Path) -> None:
    runner = CliRunner()
    env = _env(tmp_path)
    first = json.loads(runner.invoke(main, ["user", "ensure-demo", "--json"], env=env).output)
    assert first["created"] is True and first["username"] == "planerare"
    assert len(first["password"]) >= 12
    second = json.loads(runner.invoke(main, ["user", "ensure-demo", "--json"], env=env).output)
    assert second == {"created": False, "username": "planerare", "password": None}
