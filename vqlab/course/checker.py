"""The grader's side of grading: otter's tests, run in a process the student's code never ran in.

:func:`main` runs in a sandbox of its own (:mod:`vqlab.course.sandbox`), beside the student's. It reads
the assignment's otter test files on stdin, and runs them with otter's own classes
(``otter.test_files``: same test cases, same points, same messages) against a global environment built
here: a name a test needs is

* bound by one of the instructor's imports (the autograder notebook's ``import`` lines, e.g. ``torch``)
  -> imported here: the student's ``torch`` (perhaps patched) is never used;
* a builtin (``isinstance``, ``abs``) -> Python's own: a student's ``abs`` does not shadow it;
* anything else -> asked of the student's process (:mod:`vqlab.course.runner`): plain data arrives as
  tensors, arrays and numbers; a function, class or object stays there and appears here as a
  :class:`Remote`: calling it sends the arguments (plain data) over and brings the result back. A tensor
  that requires grad keeps its graph across the wall: the backward pass asks the student's process for
  the vector-Jacobian product of its own graph (first derivatives only).

The tests' assertions and every comparison run here, so patching the checker, ``assert``, numpy or
otter in the notebook changes nothing; the tests themselves never enter the student's sandbox. The global
random generators are seeded (:func:`vqlab.seed_everything` with 0) before each test file, so a test that
draws ``torch.randn`` without a generator sees the same numbers for every student (under ``otter run`` they
depended on what the student's notebook had drawn before).
Results go to the grader as JSON lines on stdout (public messages only; a hidden case's message is
dropped here).
"""
from __future__ import annotations

import argparse
import builtins
import doctest
import json
import os
import symtable
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch.autograd.function import once_differentiable

from vqlab.course.sandbox import apply_limits
from vqlab.train import seed_everything
from vqlab.course.wire import Decoder, Encoder, WireError, receive, send

__all__ = ["NotebookError", "NotebookGone", "Notebook", "Remote", "names_needed", "main"]


class NotebookError(RuntimeError):
    """An exception raised by the student's code that is not a builtin exception type."""


class NotebookGone(RuntimeError):
    """The student's process stopped, or broke the protocol."""


def _student_error(error: Any) -> Exception:
    """The student's exception, re-raised here as the builtin type it names (else NotebookError)."""
    error = error if isinstance(error, dict) else {}
    name, message = str(error.get("type")), str(error.get("message"))
    kind = getattr(builtins, name, None)
    if isinstance(kind, type) and issubclass(kind, Exception):
        try:
            return kind(message)
        except Exception:
            pass
    return NotebookError(f"{name}: {message}")


class _ThroughTheWall(torch.autograd.Function):
    """Links tensors computed in the student's process to the inputs sent there: the backward pass is a
    request for the student's graph's vector-Jacobian product (``pullback``)."""

    @staticmethod
    def forward(ctx: Any, pullback: Any, outputs: list, *inputs: torch.Tensor) -> tuple:
        ctx.pullback = pullback
        return tuple(outputs)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, *grads: torch.Tensor) -> tuple:
        return (None, None, *ctx.pullback(list(grads)))


class Remote:
    """A function, class or object that lives in the student's process; every use is a request."""

    def __init__(self, notebook: "Notebook", ref: int, kind: str):
        self._notebook, self._ref, self._kind = notebook, ref, kind

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._notebook.call(self._ref, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") and name != "__next__":  # copy/pickle/IPython probes stay on this side
            raise AttributeError(name)
        return self._notebook.getattr(self._ref, name)

    def __getitem__(self, key: Any) -> Any:
        return self._notebook.getattr(self._ref, "__getitem__")(key)

    def __len__(self) -> int:
        return int(self._notebook.getattr(self._ref, "__len__")())

    def __iter__(self) -> Any:
        iterator = self._notebook.getattr(self._ref, "__iter__")()
        advance = iterator.__next__ if isinstance(iterator, Remote) else iter(iterator).__next__
        while True:
            try:
                yield advance()
            except StopIteration:
                return

    def __repr__(self) -> str:
        return f"<{self._kind} from the notebook>"


class Notebook:
    """The student's process as the checker sees it: two pipes, plain data, every failure contained."""

    def __init__(self, requests: Any, replies: Any):
        self.requests, self.replies = requests, replies
        self.gone: str | None = None

    def event(self) -> dict | None:
        """The next progress message (``cell``, ``check``, ``ready``); None once the process is gone."""
        try:
            message, _ = receive(self.replies)
            return message
        except (EOFError, OSError, WireError) as err:
            self.gone = f"the notebook's process stopped ({err})"
            return None

    def resume(self) -> None:
        """Let the notebook run on after a ``check`` event."""
        self._send({"op": "continue"})

    def _send(self, message: dict, buffers: list[bytes] = ()) -> None:
        if self.gone:
            raise NotebookGone(self.gone)
        try:
            send(self.requests, message, buffers)
        except (OSError, WireError) as err:
            self.gone = f"the notebook's process stopped ({err})"
            raise NotebookGone(self.gone) from None

    def _exchange(self, message: dict, buffers: list[bytes] = ()) -> tuple[dict, Decoder]:
        self._send(message, buffers)
        try:
            reply, data = receive(self.replies)
        except (EOFError, OSError, WireError) as err:
            self.gone = f"the notebook's process stopped ({err})"
            raise NotebookGone(self.gone) from None
        if "error" in reply:
            raise _student_error(reply["error"])
        return reply, Decoder(data, ref=lambda obj: Remote(self, obj["$ref"], str(obj.get("type"))))

    def _value(self, reply: dict, decode: Decoder, key: str = "value") -> Any:
        try:
            return decode(reply.get(key))
        except WireError as err:
            self.gone = f"the notebook's process broke the protocol ({err})"
            raise NotebookGone(self.gone) from None

    def get(self, name: str) -> Any:
        """The value of ``name`` in the notebook (KeyError if it has none)."""
        reply, decode = self._exchange({"op": "get", "name": name})
        if reply.get("missing"):
            raise KeyError(name)
        return self._value(reply, decode)

    def getattr(self, ref: int, name: str) -> Any:
        reply, decode = self._exchange({"op": "getattr", "$ref": ref, "name": name})
        return self._value(reply, decode)

    def call(self, ref: int, args: tuple, kwargs: dict) -> Any:
        """Call the notebook's object ``ref``; gradients flow back through :class:`_ThroughTheWall`."""
        encode = Encoder(other=self._encode_remote)
        body = {"op": "call", "$ref": ref, "args": encode(list(args)), "kwargs": encode(dict(kwargs)),
                "grad": torch.is_grad_enabled()}
        reply, decode = self._exchange(body, encode.buffers)
        value = self._value(reply, decode)
        marked = [t for t, flag in zip(decode.tensors, decode.flags) if flag]
        for index, changed in reply.get("mutated") or []:     # the function changed a tensor in place
            new = self._value({"value": changed}, decode)
            if isinstance(index, int) and 0 <= index < len(encode.tensors) and new.shape == encode.tensors[index].shape:
                with torch.no_grad():
                    encode.tensors[index].copy_(new)
        states = self._value(reply, decode, "generators") or []
        for generator, state in zip(encode.generators, states):  # the function drew from a generator
            generator.set_state(state.get_state())
        inputs = [t for t in encode.tensors if t.requires_grad]
        if reply.get("graph") is not None and inputs and marked and torch.is_grad_enabled():
            graph = reply["graph"]
            _ThroughTheWall.apply(lambda grads: self._pullback(graph, grads), marked, *inputs)
        return value

    def _pullback(self, graph: int, grads: list) -> list:
        encode = Encoder()
        reply, decode = self._exchange({"op": "backward", "graph": graph, "grads": encode(grads)}, encode.buffers)
        return self._value(reply, decode)

    def _encode_remote(self, value: Any) -> dict:
        if isinstance(value, Remote) and value._notebook is self:
            return {"$ref": value._ref}
        raise TypeError(f"a {type(value).__name__} cannot be sent into the sandbox: only numbers, strings, "
                        "tensors, arrays, generators, the notebook's own objects and lists/tuples/dicts of them")


def names_needed(source: str) -> set[str]:
    """The global names a test's code uses but does not define (the notebook must supply them): names
    read at module level, names a function reads as globals, and the parameters of module-level
    functions (otter's exception-format tests receive their arguments by parameter name)."""
    try:
        table = symtable.symtable(source, "<test>", "exec")
    except SyntaxError:
        return set()
    defined = {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    for child in table.get_children():
        if child.get_type() == "function":
            names |= set(child.get_parameters()) - {"env"}
    stack = list(table.get_children())
    while stack:
        child = stack.pop()
        stack += child.get_children()
        names |= {s.get_name() for s in child.get_symbols() if s.is_global() and s.is_referenced()}
    return {n for n in names - defined if not hasattr(builtins, n) and not n.startswith("__")}


def _test_source(test_file: Any) -> str:
    """The code of every case of an otter test file (doctest prompts stripped for OK-format tests)."""
    from otter.test_files import OKTestFile

    if isinstance(test_file, OKTestFile):
        parser = doctest.DocTestParser()
        return "\n".join(ex.source for case in test_file.test_cases for ex in parser.get_examples(case.body))
    return test_file.source


class _Checks:
    """The assignment's test files and the environment each one runs in."""

    def __init__(self, tests: dict[str, str], imports: dict[str, str], notebook: Notebook, folder: Path):
        from otter.test_files import create_test_file

        self.notebook, self.imports, self.trusted = notebook, imports, {}
        self.paths = {}
        for filename, source in tests.items():
            path = folder / Path(filename).name
            path.write_text(source)
            self.paths[create_test_file(str(path), None).name] = path
        self.done: set[str] = set()

    def _environment(self, names: set[str]) -> dict[str, Any]:
        env: dict[str, Any] = {}
        for name in sorted(names):
            if name in self.imports:
                if name not in self.trusted:
                    scope: dict[str, Any] = {}
                    exec(self.imports[name], scope)
                    self.trusted[name] = scope[name]
                env[name] = self.trusted[name]
                continue
            try:
                env[name] = self.notebook.get(name)
            except (KeyError, NotebookGone):
                pass  # the test meets a NameError, as otter's would
        return env

    def run(self, name: str) -> dict:
        """Run the test file ``name`` now; its result as a JSON-able dict (public messages only)."""
        from otter.test_files import create_test_file

        test_file = create_test_file(str(self.paths[name]), None)
        env = self._environment(names_needed(_test_source(test_file)))
        seed_everything(0)   # a test that draws from the global generators draws the same for every student
        test_file.run(env)
        self.done.add(name)
        cases = [{"name": r.test_case.name, "hidden": bool(r.test_case.hidden), "points": r.test_case.points,
                  "passed": bool(r.passed), "message": None if r.test_case.hidden else (r.message or "")[:4000]}
                 for r in test_file.test_case_results]
        return {"event": "result", "name": name, "score": test_file.score, "possible": test_file.possible,
                "cases": cases}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqlab.course.checker", description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, required=True, help="fd the requests to the notebook go to")
    p.add_argument("--replies", type=int, required=True, help="fd the notebook's answers arrive on")
    p.add_argument("--limits", required=True, help="the sandbox's limits as JSON (vqlab.course.sandbox)")
    a = p.parse_args(argv)
    apply_limits(json.loads(a.limits))
    events = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever a test prints goes to stderr; stdout carries only the events

    def emit(event: dict) -> None:
        events.write(json.dumps(event) + "\n")
        events.flush()

    spec = json.load(sys.stdin)
    notebook = Notebook(os.fdopen(a.requests, "wb", buffering=0), os.fdopen(a.replies, "rb", buffering=0))
    with tempfile.TemporaryDirectory() as folder:
        checks = _Checks(spec["tests"], spec["imports"], notebook, Path(folder))
        while (event := notebook.event()) is not None:
            if "cell" in event:
                emit({"event": "cell", "cell": event["cell"], "of": event.get("of")})
            elif "check" in event:
                if event["check"] in checks.paths:
                    emit(checks.run(event["check"]))
                notebook.resume()
            elif "ready" in event:
                errors = event.get("errors")
                emit({"event": "ready", "errors": errors if isinstance(errors, list) else []})
                break
        for name in checks.paths:
            if name not in checks.done:
                emit(checks.run(name))
    emit({"event": "done"})


if __name__ == "__main__":  # pragma: no cover
    main()
