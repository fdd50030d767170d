"""Static scan of answer cells for code that tampers with grading. Flags are for a human to read:
they never change a score (the sandbox and the immune checks already keep such code from
earning marks), but they say who tried.

>>> scan("import numpy as np\\nnp.allclose = lambda *a, **k: True")
['reassigns np.allclose']
"""
from __future__ import annotations

import ast

SUSPICIOUS_MODULES = {
    "builtins": "imports builtins", "ctypes": "imports ctypes", "subprocess": "runs subprocesses",
    "socket": "opens sockets", "sqlite3": "opens databases (sqlite3)", "signal": "handles signals",
    "multiprocessing": "spawns processes", "importlib": "reloads or imports modules dynamically",
    "atexit": "registers exit handlers", "gc": "walks the garbage collector",
    "inspect": "inspects the call stack", "shutil": "copies or deletes files",
}
EXITS = {("os", "_exit"), ("sys", "exit"), ("os", "abort"), ("os", "kill"), ("os", "killpg")}
PROCESS_CALLS = {("os", "fork"), ("os", "system"), ("os", "popen"), ("os", "execv"),
                 ("os", "execvp"), ("os", "forkpty"), ("os", "spawnv")}
FILE_CALLS = {"open", "Path", "listdir", "scandir", "walk", "glob", "iglob", "stat", "connect",
              "read_text", "read_bytes", "chdir", "remove", "unlink", "rmtree"}
# Attribute names that only IPython's shell has: touching them on anything is a hook.
IPYTHON_HOOKS = {"events", "set_custom_exc", "input_transformers_cleanup",
                 "input_transformers_post", "ast_transformers", "register_magic_function",
                 "set_hook", "showtraceback", "run_cell", "custom_exceptions", "displayhook"}
SYS_HOOKS = {"modules", "excepthook", "settrace", "setprofile", "getprofile", "gettrace",
             "_getframe", "meta_path", "path_hooks", "displayhook", "addaudithook"}


def to_python(source: str) -> str:
    """IPython syntax (``%magic``, ``!shell``) as plain Python, so that ``ast`` can parse it."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _dotted(node) -> tuple[str, ...]:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return tuple(reversed(parts))
    if isinstance(node, ast.Call):  # get_ipython().events.register → ("get_ipython()", ...)
        inner = _dotted(node.func)
        if inner:
            return (".".join(inner) + "()", *reversed(parts))
    return ()


def _outside_path(node) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
        if text.startswith(("/", "~")) or ".." in text.split("/"):
            return text
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        if isinstance(first, ast.Constant) and str(first.value).startswith(("/", "~")):
            return str(first.value) + "…"
    return None


class _Scanner(ast.NodeVisitor):
    def __init__(self, modules: dict[str, str] | None = None):
        self.flags: list[str] = []
        self.modules: dict[str, str] = dict(modules or {})   # local name -> module it names

    def flag(self, text: str) -> None:
        if text not in self.flags:
            self.flags.append(text)

    def visit_Import(self, node):
        for alias in node.names:
            self.modules[alias.asname or alias.name.split(".")[0]] = alias.name
            self._module_flag(alias.name)
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        for alias in node.names:
            self.modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        if node.module:
            self._module_flag(node.module)
        self.generic_visit(node)

    def _module_flag(self, module: str) -> None:
        top = module.split(".")[0]
        if top in SUSPICIOUS_MODULES:
            self.flag(SUSPICIOUS_MODULES[top])

    def _check_target(self, target) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element)
            return
        if isinstance(target, ast.Attribute):
            path = _dotted(target)
            if path and path[0] in self.modules:
                self.flag(f"reassigns {'.'.join(path)}")
            elif path and path[0] in ("__builtins__", "builtins"):
                self.flag(f"reassigns {'.'.join(path)}")
        if isinstance(target, ast.Subscript):
            path = _dotted(target.value)
            if path in (("sys", "modules"), ("__builtins__",)) or path[-1:] == ("__dict__",):
                self.flag(f"writes into {'.'.join(path)}")

    def visit_Assign(self, node):
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._check_target(node.target)
        self.generic_visit(node)

    def visit_Delete(self, node):
        for target in node.targets:
            self._check_target(target)
        self.generic_visit(node)

    def visit_Constant(self, node):
        if isinstance(node.value, str) and node.value.startswith("/") and len(node.value) > 1 \
                and "\n" not in node.value:
            self.flag(f"reads or writes outside the work folder ({node.value[:60]!r})")

    def visit_Name(self, node):
        if node.id == "__builtins__":
            self.flag("touches __builtins__")
        if node.id in ("exit", "quit"):
            self.flag("exits the kernel")
        self.generic_visit(node)

    def visit_Attribute(self, node):
        path = _dotted(node)
        if path[:1] == ("sys",) and len(path) > 1 and path[1] in SYS_HOOKS:
            self.flag(f"touches sys.{path[1]}")
        if len(path) > 1 and set(path[1:]) & IPYTHON_HOOKS:
            self.flag("registers IPython hooks or events")
        if path[-1:] in (("__code__",), ("__globals__",), ("__closure__",), ("cell_contents",)):
            self.flag(f"rewrites function internals ({path[-1]})")
        self.generic_visit(node)

    def visit_Raise(self, node):
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in ("SystemExit", "KeyboardInterrupt"):
            self.flag(f"raises {exc.id}")
        self.generic_visit(node)

    def visit_Call(self, node):
        path = _dotted(node.func)
        resolved = (*self.modules.get(path[0], path[0]).split("."), *path[1:]) if path else ()
        if resolved[-2:] in EXITS:
            self.flag(f"exits the kernel ({'.'.join(path)})")
        if resolved[-2:] in PROCESS_CALLS:
            self.flag(f"starts processes ({'.'.join(path)})")
        if path[-1:] == ("setattr",) and node.args:
            target = _dotted(node.args[0])
            if target and (target[0] in self.modules or target[0] in ("builtins", "__builtins__")):
                self.flag(f"reassigns an attribute of {'.'.join(target)} (setattr)")
        if path and path[-1] in ("eval", "exec", "compile", "__import__"):
            self.flag(f"runs dynamic code ({path[-1]})")
        if path and path[-1] in FILE_CALLS:
            for arg in node.args[:1]:
                outside = _outside_path(arg)
                if outside:
                    self.flag(f"reads or writes outside the work folder ({outside[:60]!r})")
        if path and path[-1] == "system" and path[0] == "get_ipython()":
            self.flag("runs shell commands (!)")
        self.generic_visit(node)


def _parse(source: str):
    try:
        return ast.parse(to_python(source))
    except SyntaxError:
        return None  # it will fail on its own when run; nothing to flag


def imported_modules(sources: list[str]) -> dict[str, str]:
    """Names bound by imports anywhere in ``sources`` (e.g. the notebook's locked import cell)."""
    scanner = _Scanner()
    for source in sources:
        tree = _parse(source)
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.Import):
                for alias in node.names:
                    scanner.modules[alias.asname or alias.name.split(".")[0]] = alias.name
            elif isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    scanner.modules[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return scanner.modules


def scan(source: str, modules: dict[str, str] | None = None) -> list[str]:
    """Human-readable flags for one answer cell's source (empty when nothing is suspicious).

    ``modules`` maps names imported elsewhere in the notebook (``np`` → ``numpy``) so that
    ``np.allclose = ...`` is caught even when ``np`` was imported in another cell.
    """
    tree = _parse(source)
    if tree is None:
        return []
    scanner = _Scanner(modules)
    scanner.visit(tree)
    return scanner.flags


def scan_answers(answers: dict[str, str], other_sources: list[str] = ()) -> list[str]:
    """Flags of every answer cell, each prefixed by the cell's grade id."""
    modules = imported_modules([*other_sources, *answers.values()])
    return [f"{grade_id}: {flag}" for grade_id, source in answers.items()
            for flag in scan(source, modules)]
