"""The answer-key guard behind ``checks.quiet()``: an exercise may not get its result from the
course's own reference.

A test cell runs the student's code inside ``with checks.quiet():``. On entry the guard reads
which exercises the test calls (the global names its code loads that ``answer_key`` knows) and
forbids their references. While the block runs, a profile hook sees every Python call (and
every C call, for torch's builtins). A call of a forbidden reference counts against the student
when student code is on the way to it: a frame that is neither library code nor the test
cell's own code (the test may compute expected values, and may hand the student objects that
use other references). An exercise name bound straight to its reference (an alias, a
``functools.partial``, a copy of the function) is caught on entry. Switching the hook off,
or reading it, from student code counts too.

Every route therefore lands in one place: the reference's own code running for the student,
however it was reached (an alias, a wrapper, a default argument, a lambda, ``getattr`` or
``importlib``, a class that loops over the rule, a copy of the function object, a thread).
"""
from __future__ import annotations

import dis
import functools
import inspect
import os
import sys
import threading
import types

from . import answer_key
from .i18n import _

# Bound at import, before any answer cell runs: an answer that replaces these changes nothing.
_setprofile, _getprofile = sys.setprofile, sys.getprofile
_thread_setprofile, _thread_getprofile = threading.setprofile, threading.getprofile
_getframe = sys._getframe
_TAMPER = {sys.setprofile, sys.getprofile, sys.settrace, sys._getframe}
_TAMPER_CODE = {threading.setprofile.__code__, threading.getprofile.__code__}

_LIBRARY_ROOTS = tuple(sorted({os.path.join(os.path.realpath(p), "") for p in
                               (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                os.path.dirname(__file__))} |
                              {os.path.join(p, "") for p in
                               (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                os.path.dirname(__file__))}))


class AnswerKeyUsed(AssertionError):
    """An exercise got its result from the course's own reference."""


@functools.lru_cache(maxsize=None)
def is_library(filename: str) -> bool:
    """Whether code in ``filename`` belongs to the course's library or Python itself."""
    return filename.startswith(_LIBRARY_ROOTS) or filename.startswith("<frozen ")


class _Registry:
    """Every reference's code (and torch's builtins), mapped to the reference's dotted name."""

    def __init__(self):
        self.code: dict[types.CodeType, str] = {}
        self.place: dict[tuple[str, int], str] = {}       # a code.replace() copy keeps its place
        self.builtins: dict[int, tuple[object, str]] = {}   # id -> (the builtin, its name)
        self.with_torch = "torch" in sys.modules
        names = {d for e in answer_key.exercises() for d in answer_key.references(e)}
        for dotted in sorted(names):
            obj = answer_key.resolve(dotted)
            if obj is None:
                continue
            if isinstance(obj, types.BuiltinFunctionType):
                self.builtins[id(obj)] = (obj, dotted)
            for code in answer_key.code_objects(obj):
                self.code.setdefault(code, dotted)
                self.place.setdefault((code.co_filename, code.co_firstlineno), dotted)
        self.copies = {(c.co_code, c.co_consts, c.co_names): d for c, d in self.code.items()}
        self.seen: dict[types.CodeType, str | None] = dict(self.code)

    def classify(self, code: types.CodeType) -> str | None:
        """The reference this code is (or is a copy of), else None. Cached per code object."""
        dotted = self.place.get((code.co_filename, code.co_firstlineno))
        name = code.co_filename
        if dotted is None and name.startswith("<") and not name.startswith(("<ipython-input",
                                                                             "<frozen ")):
            dotted = self.copies.get((code.co_code, code.co_consts, code.co_names))
        self.seen[code] = dotted
        return dotted


_registry = _Registry()   # built now: answer cells run after the setup cell imported checks


def _current_registry() -> _Registry:
    global _registry
    if not _registry.with_torch and "torch" in sys.modules:
        _registry = _Registry()
    return _registry


@functools.lru_cache(maxsize=256)
def _globals_loaded(code: types.CodeType) -> frozenset[str]:
    names = {ins.argval for ins in dis.get_instructions(code)
             if ins.opname in ("LOAD_NAME", "LOAD_GLOBAL")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _globals_loaded(const)
    return frozenset(names)


def _bound_reference(obj, registry: _Registry) -> str | None:
    """The reference an exercise name is bound to directly (alias, partial, copy), if any."""
    for _ in range(10):
        if isinstance(obj, functools.partial):
            obj = obj.func
        elif inspect.ismethod(obj):
            obj = obj.__func__
        else:
            break
    if inspect.isfunction(obj):
        code = inspect.unwrap(obj).__code__
        return registry.seen.get(code) or registry.classify(code)
    if isinstance(obj, types.BuiltinFunctionType) and id(obj) in registry.builtins:
        return registry.builtins[id(obj)][1]
    if inspect.isclass(obj):   # the class itself, or a subclass that inherits its methods
        for klass in obj.__mro__:
            for code in answer_key.code_objects(klass):
                if code in registry.code:
                    return registry.code[code]
    return None


class Guard:
    """Context manager: record every use of the exercise's own reference by student code."""

    _active: list["Guard"] = []

    def __enter__(self):
        entry = _getframe(1)
        while entry is not None and is_library(entry.f_code.co_filename):
            entry = entry.f_back
        self.registry = _current_registry()
        self.entry, self.test_file = entry, entry.f_code.co_filename if entry else ""
        under_test = (_globals_loaded(entry.f_code) if entry else frozenset()) & answer_key.exercises()
        outer = Guard._active[-1].forbidden if Guard._active else frozenset()
        self.forbidden = outer | {d for e in under_test for d in answer_key.references(e)}
        self.found: list[tuple[str, str]] = []   # (kind, what was seen)
        for exercise in sorted(under_test):
            dotted = _bound_reference(entry.f_globals.get(exercise), self.registry)
            if dotted in self.forbidden:
                self.found.append(("key", _("{exercise} is {reference} itself (an alias or copy of "
                                           "it)").format(exercise=exercise, reference=dotted)))
        self.previous = _getprofile(), _thread_getprofile()
        self.hook = self._make_hook()
        Guard._active.append(self)
        _thread_setprofile(self.hook)
        _setprofile(self.hook)
        return self

    def __exit__(self, *exc_info):
        still_on = _getprofile() is self.hook
        _setprofile(self.previous[0])
        _thread_setprofile(self.previous[1])
        Guard._active.remove(self)
        if not still_on:
            self.found.append(("guard", _("the grader's guard was switched off "
                                           "(sys.setprofile)")))
        if self.found:
            raise AnswerKeyUsed(message(self.found)) from None
        return False

    def _student_on_the_way(self, frame) -> bool:
        """Whether student code is on the stack between ``frame`` and the test's own frame."""
        while frame is not None and frame is not self.entry:
            if self._is_student(frame):
                return True
            frame = frame.f_back
        return frame is None  # another thread, or a stack that never came from the test

    def _is_student(self, frame) -> bool:
        name = frame.f_code.co_filename
        return name != self.test_file and not is_library(name)

    def _report(self, hit: tuple[str, str], caller) -> None:
        kind, what = hit
        # A reference counts when student code led to it; tampering only when the student's own
        # code made the call (torch reads frames too).
        if (kind == "key" and self._student_on_the_way(caller)) or \
                (kind == "guard" and caller is not None and self._is_student(caller)):
            self.found.append((kind, _("your code calls {name}").format(name=what)))

    def _make_hook(self):
        """The profile function: as little work as possible per event (it sees every call)."""
        seen, classify, forbidden = self.registry.seen, self.registry.classify, self.forbidden
        watched = {code: ("key", d) for code, d in self.registry.code.items() if d in forbidden}
        watched.update({code: ("guard", f"threading.{code.co_name}") for code in _TAMPER_CODE})
        watched_c = {obj: ("key", d) for obj, d in self.registry.builtins.values()
                     if d in forbidden}
        watched_c.update({obj: ("guard", f"sys.{obj.__name__}") for obj in _TAMPER})
        cold: set[types.CodeType] = set()
        report = self._report

        def hook(frame, event, arg):
            if event == "call":
                code = frame.f_code
                if code in cold:
                    return
                hit = watched.get(code)
                if hit is None:
                    dotted = seen[code] if code in seen else classify(code)
                    if dotted not in forbidden:
                        cold.add(code)
                        return
                    hit = watched[code] = ("key", dotted)
                report(hit, frame.f_back)
            elif event == "c_call":
                hit = watched_c.get(arg)
                if hit is not None:
                    report(hit, frame)

        return hook


def message(found: list[tuple[str, str]]) -> str:
    """What the student reads: what was seen, and what to do instead."""
    seen = list(dict.fromkeys(found))
    key = [text for kind, text in seen if kind == "key"]
    guard = [text for kind, text in seen if kind == "guard"]
    parts = []
    if key:
        parts.append(_("answer key used: {uses}. That is the course's own reference (the answer "
                       "key), so this test gives no points for it. Write the exercise yourself "
                       "from the formula in its docstring; you may still compare with the "
                       "reference in a cell of your own.").format(uses="; ".join(key[:3])))
    if guard:
        parts.append(_("answer key guard touched: {uses}. Tests run your code with a guard "
                       "against the answer key; code that reads or switches off the profiler "
                       "gets no points.").format(uses="; ".join(guard[:3])))
    return " ".join(parts)
