"""The package's types, checked by mypy run in a subprocess with this
interpreter: the README's Python example and the Pipelit drop-in pass
`mypy --strict`, the native module's stubs (`_native.pyi`) match the built
module (`mypy.stubtest`), and `__version__` is the distribution's.

The package is whatever this interpreter imports (the staged build under
`cargo test`, or an installed wheel); mypy is pointed at it only when it is
not in site-packages, where mypy finds it (`py.typed`) by itself."""

from __future__ import annotations

import importlib.metadata
import os
import re
import site
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import get_totp_code

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "pipelit_get_totp_code.py"
FAKE_PIPELIT = HERE / "fake_pipelit"

#: PEP 440's canonical public version (its Appendix B).
PEP_440 = re.compile(
    r"^([1-9][0-9]*!)?(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*"
    r"((a|b|rc)(0|[1-9][0-9]*))?(\.post(0|[1-9][0-9]*))?(\.dev(0|[1-9][0-9]*))?$"
)


def readme() -> Path:
    configured = os.environ.get("GET_TOTP_CODE_README")
    return Path(configured) if configured else Path(__file__).resolve().parents[3] / "README.md"


def readme_example(text: str) -> str:
    """The one ```python block of the README's `## Install` section."""
    match = re.search(r"^## Install\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, "the README has no '## Install' section"
    blocks = re.findall(r"^```python\n(.*?)^```$", match.group(1), re.M | re.S)
    assert len(blocks) == 1, f"expected one python block under '## Install', found {len(blocks)}"
    return str(blocks[0])


def package_search_path() -> List[str]:
    """The directory holding the imported `get_totp_code`, unless mypy finds
    it as an installed package (mypy refuses site-packages in MYPYPATH)."""
    parent = Path(get_totp_code.__file__).resolve().parent.parent
    installed = {Path(path).resolve() for path in site.getsitepackages()}
    installed.update(
        Path(sysconfig.get_paths()[key]).resolve() for key in ("purelib", "platlib")
    )
    if site.ENABLE_USER_SITE:
        installed.add(Path(site.getusersitepackages()).resolve())
    return [] if parent in installed else [str(parent)]


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy-cache")


def run_mypy(
    args: List[str], cwd: Path, extra_path: Optional[List[str]] = None
) -> "subprocess.CompletedProcess[str]":
    env: Dict[str, str] = dict(os.environ)
    env["MYPYPATH"] = os.pathsep.join(package_search_path() + (extra_path or []))
    # Run outside the repository: no configuration file but the flags.
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def assert_passed(result: "subprocess.CompletedProcess[str]") -> None:
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


def test_readme_example_passes_mypy_strict(tmp_path: Path, mypy_cache: Path) -> None:
    example = tmp_path / "readme_example.py"
    example.write_text(readme_example(readme().read_text(encoding="utf-8")), encoding="utf-8")
    assert_passed(
        run_mypy(["mypy", "--strict", "--cache-dir", str(mypy_cache), str(example)], tmp_path)
    )


def test_pipelit_example_passes_mypy_strict(tmp_path: Path, mypy_cache: Path) -> None:
    # The fake platform (components, database, models) is checked as well:
    # it is typed, so the drop-in's use of it is checked strictly.
    assert_passed(
        run_mypy(
            ["mypy", "--strict", "--cache-dir", str(mypy_cache), str(EXAMPLE)],
            tmp_path,
            extra_path=[str(FAKE_PIPELIT)],
        )
    )


def test_stubs_match_the_native_module(tmp_path: Path) -> None:
    assert_passed(run_mypy(["mypy.stubtest", "get_totp_code._native"], tmp_path))


def test_version_is_the_distributions() -> None:
    version = get_totp_code.__version__
    assert PEP_440.match(version), f"{version!r} is not a canonical PEP 440 version"
    try:
        distribution = importlib.metadata.distribution("get-totp-code")
    except importlib.metadata.PackageNotFoundError:
        return  # staged by `cargo test`, not installed
    provides = Path(str(distribution.locate_file("get_totp_code/__init__.py"))).resolve()
    if provides == Path(get_totp_code.__file__).resolve():
        assert version == distribution.version
