"""The import-cycle check `make lint` runs (issue 21: "No import cycles between modules (a check
in `make lint`)"): it finds cycles through imports inside functions and relative imports, and
the project has none."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_cycles", ROOT / "scripts/import_cycles.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "pkg"


def test_a_cycle_through_a_function_level_import_is_found(tmp_path: Path, capsys) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "service.py": "def f():\n    from pkg.summary import g\n",
            "summary.py": "from pkg import service\n",
            "alone.py": "import pkg.service\n",
        },
    )
    assert _script().main([str(root)]) == 1
    assert capsys.readouterr().out == "import cycle: pkg.service, pkg.summary\n"


def test_relative_imports_and_longer_cycles_count(tmp_path: Path, capsys) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "sub/__init__.py": "",
            "sub/a.py": "from . import b\n",
            "sub/b.py": "from ..c import thing\n",
            "c.py": "from pkg.sub.a import x\nthing = 1\n",
        },
    )
    assert _script().main([str(root)]) == 1
    assert capsys.readouterr().out == "import cycle: pkg.c, pkg.sub.a, pkg.sub.b\n"


def test_a_package_without_cycles_passes(tmp_path: Path, capsys) -> None:
    root = _package(
        tmp_path,
        {"__init__.py": "from pkg.a import x\n", "a.py": "x = 1\n", "b.py": "from pkg import a\n"},
    )
    assert _script().main([str(root)]) == 0
    assert capsys.readouterr().out == ""


def test_pmha_has_no_import_cycles(capsys) -> None:
    assert _script().main([str(ROOT / "pmha")]) == 0, capsys.readouterr().out
