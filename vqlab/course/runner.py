"""The student's side of grading: runs inside the student's sandbox (:mod:`vqlab.course.sandbox`).

Everything in this process is untrusted once the first cell has run: the student's code may replace any
function here. So this process decides nothing: it executes the notebook's code cells in order (an IPython
shell, as a Jupyter kernel would; an error is noted and the next cell runs, as ``otter run`` does), and
answers the checker's requests over two pipes with plain data (:mod:`vqlab.course.wire`): the value of a
name, the result of calling a function of the notebook, a gradient through such a call. It never sees a
test: only the arguments the checker passes.

Messages to the checker: ``{"cell": i, "of": n}`` before each cell; ``{"check": question}`` where the
notebook calls ``grader.check(question)`` (otter grades a question where the student checks it; the
checker then runs that question's tests and answers ``{"op": "continue"}``); ``{"ready": errors}`` after
the last cell. Then it serves requests until the checker closes the channel.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any

import torch

from vqlab.course.sandbox import apply_limits
from vqlab.course.wire import Decoder, Encoder, WireError, receive, send

__all__ = ["Runner", "main"]


class Runner:
    """Executes a notebook in ``namespace`` and serves the checker's requests (``requests`` / ``replies``)."""

    def __init__(self, requests: Any, replies: Any):
        self.requests, self.replies = requests, replies
        self.objects: dict[int, Any] = {}         # what crossed as {"$ref": id}
        self.graphs: dict[int, tuple[list, list]] = {}
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False
        self.shell = InteractiveShell.instance(config=config)
        self.namespace = self.shell.user_ns

    # -- encoding what the notebook holds --------------------------------------------------------------
    def _ref(self, value: Any) -> dict:
        self.objects[id(value)] = value
        return {"$ref": id(value), "type": type(value).__name__, "callable": callable(value)}

    def _lookup(self, obj: dict) -> Any:
        if obj.get("$ref") not in self.objects:
            raise WireError(f"no object {obj.get('$ref')!r}")
        return self.objects[obj["$ref"]]

    def _reply(self, message: dict, value: Any = None) -> None:
        encode = Encoder(other=self._ref)
        try:
            body = encode(value)
        except Exception as err:  # a value that will not encode (e.g. a cycle): the checker sees an error
            return send(self.replies, {"error": {"type": type(err).__name__, "message": str(err)[:2000]}})
        send(self.replies, {**message, "value": body}, encode.buffers)

    # -- the notebook ----------------------------------------------------------------------------------
    def run_notebook(self, path: str) -> list[dict]:
        """Execute every code cell of ``path`` (cells tagged ``otter_ignore`` skipped, as otter does);
        return the errors, one ``{"cell", "error"}`` per failing cell."""
        with open(path, encoding="utf-8") as f:
            cells = [c for c in json.load(f)["cells"] if c.get("cell_type") == "code"
                     and "otter_ignore" not in c.get("metadata", {}).get("tags", [])
                     and not c.get("metadata", {}).get("otter", {}).get("ignore", False)]
        self._intercept_otter_checks()
        errors = []
        for i, cell in enumerate(cells):
            send(self.replies, {"cell": i + 1, "of": len(cells)})
            source = cell.get("source", "")
            result = self.shell.run_cell("".join(source) if isinstance(source, list) else str(source))
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                errors.append({"cell": i + 1, "error": f"{type(error).__name__}: {error}"[:500]})
        return errors

    def _intercept_otter_checks(self) -> None:
        """``grader.check(q)`` in the notebook becomes a checkpoint: the checker grades ``q`` now."""
        from otter.check.notebook import Notebook

        def check(notebook: Any, question: str, global_env: Any = None) -> None:
            send(self.replies, {"check": str(question)})
            self.serve()

        Notebook.check = check

    # -- requests ----------------------------------------------------------------------------------------
    def serve(self) -> None:
        """Answer requests until ``{"op": "continue"}`` or until the checker closes the channel."""
        while True:
            try:
                request, buffers = receive(self.requests)
            except EOFError:  # the checker is done (or gone): nothing more to answer
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0)
            if request.get("op") == "continue":
                return
            try:
                self._answer(request, buffers)
            except WireError:
                raise
            except BaseException as err:  # the student's code raised: the checker re-raises it in the test
                if isinstance(err, (SystemExit, KeyboardInterrupt)) and not isinstance(err, Exception):
                    err = RuntimeError(f"{type(err).__name__} raised")
                send(self.replies, {"error": {"type": type(err).__name__, "message": str(err)[:2000],
                                              "traceback": traceback.format_exc(limit=-3)[-2000:]}})

    def _answer(self, request: dict, buffers: list[bytes]) -> None:
        op = request.get("op")
        if op == "get":
            name = request.get("name")
            if name not in self.namespace:
                return send(self.replies, {"missing": True})
            return self._reply({}, self.namespace[name])
        if op == "getattr":
            return self._reply({}, getattr(self._lookup(request), str(request.get("name"))))
        if op == "call":
            return self._call(request, buffers)
        if op == "backward":
            return self._backward(request, buffers)
        raise WireError(f"unknown request {op!r}")

    def _call(self, request: dict, buffers: list[bytes]) -> None:
        decode = Decoder(buffers, ref=self._lookup, grad=True)
        function = self._lookup(request)
        args, kwargs = decode(request.get("args", [])), decode(request.get("kwargs", {"$dict": []}))
        before = [t.detach().clone() for t in decode.tensors]
        with torch.set_grad_enabled(bool(request.get("grad"))):
            result = function(*args, **kwargs)
        encode = Encoder(other=self._ref)
        value = encode(result)
        inputs = [t for t in decode.tensors if t.requires_grad]
        outputs = [t for t in encode.tensors if t.requires_grad]
        graph = None
        if inputs and outputs:
            graph = len(self.graphs)
            self.graphs[graph] = (inputs, outputs)
        mutated = [[i, encode(t)] for i, (t, b) in enumerate(zip(decode.tensors, before))
                   if not t.requires_grad and not torch.equal(t, b)]
        states = [encode(g) for g in decode.generators]
        send(self.replies, {"value": value, "graph": graph, "mutated": mutated, "generators": states},
             encode.buffers)

    def _backward(self, request: dict, buffers: list[bytes]) -> None:
        inputs, outputs = self.graphs[int(request["graph"])]
        grads = Decoder(buffers)(request["grads"])
        pairs = [(o, g) for o, g in zip(outputs, grads) if g is not None]
        result = [None] * len(inputs)
        if pairs:
            result = torch.autograd.grad([o for o, _ in pairs], inputs, [g for _, g in pairs],
                                         retain_graph=True, allow_unused=True)
        self._reply({}, list(result))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m vqlab.course.runner", description=__doc__.splitlines()[0])
    p.add_argument("notebook")
    p.add_argument("--requests", type=int, required=True, help="fd the checker's requests arrive on")
    p.add_argument("--replies", type=int, required=True, help="fd the answers go to")
    p.add_argument("--limits", required=True, help="the sandbox's limits as JSON (vqlab.course.sandbox)")
    a = p.parse_args(argv)
    apply_limits(json.loads(a.limits))
    runner = Runner(os.fdopen(a.requests, "rb", buffering=0), os.fdopen(a.replies, "wb", buffering=0))
    errors = runner.run_notebook(a.notebook)
    send(runner.replies, {"ready": True, "errors": errors})
    runner.serve()
    sys.stdout.flush()


if __name__ == "__main__":  # pragma: no cover
    main()
