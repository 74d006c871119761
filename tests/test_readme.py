"""The README's two commands are what a new colleague and CI run: keep them true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```(?:bash|sh)?\n(.*?)```", text, flags=re.S)][:2]


def test_readme_opens_with_serve_and_test_commands():
    serve, test = _readme_commands()
    assert "scripts/setup.sh" in serve and "hazardboard serve" in serve
    assert "scripts/setup.sh --test" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    _, test = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()


def test_setup_script_installs_what_the_tests_need():
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    for package in ("fonts-noto-cjk", "chromium"):
        assert package in setup
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"bokeh>=3.8.2,' in pyproject  # the websocket-origin advisory fix, with an upper bound
