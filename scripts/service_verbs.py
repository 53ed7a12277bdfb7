"""No dict crosses into a service (issue 21): a public function of pmha/ that takes a database
session (a service verb) takes its input as typed values or a command dataclass, never a
`dict[str, Any]` or `Mapping[str, Any]` read by key. The HTTP edges (api, views) and schemas
are left out: they are where a body becomes a command. Exits 1 naming each offender."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LOOSE = ("dict[str, Any]", "Mapping[str, Any]", "dict[str, object]", "Mapping[str, object]")
# Payloads that are documents by nature, not a verb's input: the audit event's before/after
# snapshots and details (JSON, hashed into the chain).
ALLOWED = {("pmha/core/audit.py", "record")}
EDGES = ("api.py", "views.py", "schemas.py", "_api.py")


def offenders(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.as_posix()
        if path.name.endswith(EDGES) or "/views/" in rel or "/migrations/" in rel:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            if "session" not in {p.arg for p in params} or (rel, node.name) in ALLOWED:
                continue
            for p in params:
                shown = ast.unparse(p.annotation) if p.annotation is not None else ""
                if any(part.strip() in LOOSE for part in shown.split("|")):
                    found.append(f"{rel}:{node.lineno}: {node.name}({p.arg}: {shown})")
    return found


def main() -> int:
    found = offenders(Path(sys.argv[1] if len(sys.argv) > 1 else "pmha"))
    for line in found:
        print(f"{line}: take a command dataclass (issue 21), not a dict read by key")
    if not found:
        print("service verbs: no dict parameter")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
