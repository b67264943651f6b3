"""The `runnables.mypy` plugin: its cases pass under mypy with the plugin on, its types match
what the chains return, and it refuses a mypy it was not tested with."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mypy.plugin import Plugin

from runnables import RunnableLambda, RunnableParallel, RunnablePassthrough
from runnables.mypy import UnsupportedMypyError, check_mypy_version, plugin

ROOT = Path(__file__).parent.parent
CONFIG = ROOT / "typecheck" / "plugin" / "mypy.ini"


def test_the_plugin_cases_pass_with_the_plugin_on() -> None:
    # Negative cases are proved by `warn_unused_ignores`: an error that stops happening fails.
    # In a process of its own: mypy raises the recursion limit and retunes the gc.
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("Success"), run.stdout


def shout(text: str) -> str:
    return text.upper()


def to_len(text: str) -> int:
    return len(text)


def ratio(d: dict[str, Any]) -> float:
    return d["n"] / 2


def test_the_typed_keys_are_the_keys_at_run_time() -> None:
    # The plugin's TypedDicts claim these keys, with these value types.
    chain = RunnableLambda(shout) | {"n": to_len, "inner": {"loud": shout}}
    out = chain.invoke("ab")
    assert out == {"n": 2, "inner": {"loud": "AB"}}
    assert RunnableParallel(n=to_len, loud=shout).pick(["n"]).invoke("ab") == {"n": 2}
    assigned = (chain | RunnablePassthrough.assign(ratio=ratio)).invoke("ab")
    assert assigned == {"n": 2, "inner": {"loud": "AB"}, "ratio": 1.0}


def test_the_plugin_loads_under_the_tested_mypy() -> None:
    assert issubclass(plugin("2.4.1"), Plugin)
    check_mypy_version("2.4.3+dev.0123abc")


@pytest.mark.parametrize("version", ["2.5.0", "2.3.1", "3.0", "dev"])
def test_an_untested_mypy_is_refused(version: str) -> None:
    with pytest.raises(UnsupportedMypyError, match=rf"supports mypy 2\.4\.x, not {version}"):
        plugin(version)


def test_mypy_reports_an_untested_version_as_a_configuration_error(tmp_path: Path) -> None:
    # The check runs when mypy imports the plugin: mypy reports it on the `plugins` line.
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nplugins = runnables.mypy\n")
    (tmp_path / "empty.py").write_text("")
    code = (
        "import sys, mypy.version; mypy.version.__version__ = '2.9.0'; "
        "from mypy import api; out, err, status = api.run(sys.argv[1:]); "
        "print(out + err); sys.exit(status)"
    )
    args = ["--config-file", str(config), "--no-incremental", str(tmp_path / "empty.py")]
    run = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=False
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "mypy.ini:2: error: Error importing plugin" in run.stdout
    assert "runnables.mypy supports mypy 2.4.x, not 2.9.0" in run.stdout
