"""Plain data across the sandbox wall: what the student's process and the checker say to each other.

A message is a JSON document followed by raw little-endian array buffers. Only these values cross:
``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, ``bytes``, lists, tuples, sets, dicts,
torch tensors and NumPy arrays (and NumPy scalars) of a plain numeric or boolean dtype, ``torch.Size``,
``torch.dtype``, ``torch.device`` and ``torch.Generator`` (its state). Anything else a student's function
returns stays in the student's process and crosses as a numbered reference. Nothing is ever unpickled:
the reader only parses JSON and copies bytes into arrays of a dtype from a fixed list, so a hostile
writer can send wrong values, never code.

Frame: ``8-byte JSON length | 8-byte buffers length | JSON | buffers`` (big-endian lengths), at most
:data:`MAX_MESSAGE` bytes.
"""
from __future__ import annotations

import io
import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

__all__ = ["MAX_MESSAGE", "WireError", "Encoder", "Decoder", "send", "receive"]

#: The largest message either side accepts (bytes).
MAX_MESSAGE = 256 * 2**20
#: How deeply lists, tuples and dicts may nest.
MAX_DEPTH = 64

# NumPy dtypes that may cross (little-endian); a tensor crosses as one of them (bfloat16 as its int16 bits).
_NUMPY = ("|b1", "|i1", "|u1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8", "<f2", "<f4", "<f8", "<c8", "<c16")
_TORCH = {"bool": "|b1", "int8": "|i1", "uint8": "|u1", "int16": "<i2", "int32": "<i4", "int64": "<i8",
          "float16": "<f2", "float32": "<f4", "float64": "<f8", "complex64": "<c8", "complex128": "<c16",
          "bfloat16": "<i2"}


class WireError(Exception):
    """A message that breaks the format: too large, not JSON, an unknown tag, a short buffer."""


def _plain(array: np.ndarray) -> np.ndarray:
    """``array`` as contiguous little-endian data of an allowed dtype (TypeError otherwise)."""
    array = np.asarray(array, order="C")
    array = array.astype(array.dtype.newbyteorder("<"), copy=False) if array.dtype.byteorder == ">" else array
    if array.dtype.str not in _NUMPY:
        raise TypeError(f"arrays of dtype {array.dtype} cannot cross the sandbox (plain numbers only)")
    return array


class Encoder:
    """Turns a value into JSON plus buffers; ``other(value)`` encodes what is not plain data (or raises).

    After a call, ``tensors`` and ``generators`` list the tensors and generators met, in order.
    """

    def __init__(self, other: Callable[[Any], Any] | None = None):
        self.buffers: list[bytes] = []
        self.tensors: list[torch.Tensor] = []
        self.generators: list[torch.Generator] = []
        self._other = other

    def _buffer(self, data: bytes) -> int:
        self.buffers.append(data)
        return len(self.buffers) - 1

    def __call__(self, value: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise TypeError(f"values nest deeper than {MAX_DEPTH} levels")
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, (int, float)) and type(value) in (int, float):
            return value
        if type(value) is complex:
            return {"$complex": [value.real, value.imag]}
        if type(value) is bytes:
            return {"$bytes": self._buffer(value)}
        if type(value) in (list, tuple, set, frozenset):
            items = [self(v, depth + 1) for v in value]
            return items if type(value) is list else {"$" + type(value).__name__: items}
        if type(value) is dict:
            return {"$dict": [[self(k, depth + 1), self(v, depth + 1)] for k, v in value.items()]}
        if isinstance(value, torch.Tensor) and type(value) in (torch.Tensor, torch.nn.Parameter):
            return self._tensor(value)
        if type(value) is np.ndarray or isinstance(value, np.generic):
            array = _plain(np.asarray(value))
            tag = "$ndarray" if type(value) is np.ndarray else "$npscalar"
            return {tag: self._buffer(array.tobytes()), "dtype": array.dtype.str, "shape": list(array.shape)}
        if type(value) is torch.Size:
            return {"$size": list(value)}
        if isinstance(value, torch.dtype):
            return {"$dtype": str(value).removeprefix("torch.")}
        if type(value) is torch.device:
            return {"$device": str(value)}
        if type(value) is torch.Generator:
            self.generators.append(value)
            return {"$generator": self._buffer(value.get_state().numpy().tobytes())}
        if self._other is not None:
            return self._other(value)
        raise TypeError(f"a {type(value).__name__} cannot be sent into the sandbox: only numbers, strings, "
                        "tensors, arrays, generators and lists/tuples/dicts of them")

    def _tensor(self, tensor: torch.Tensor) -> dict:
        name = str(tensor.dtype).removeprefix("torch.")
        if name not in _TORCH or tensor.layout != torch.strided or tensor.is_quantized:
            raise TypeError(f"tensors of dtype {tensor.dtype} / layout {tensor.layout} cannot cross the sandbox")
        data = tensor.detach().cpu().contiguous()
        data = data.view(torch.int16) if name == "bfloat16" else data
        self.tensors.append(tensor)
        return {"$tensor": self._buffer(data.numpy().tobytes()), "dtype": name, "shape": list(tensor.shape),
                "grad": bool(tensor.requires_grad)}


def _array(buffer: bytes, dtype: str, shape: Any) -> np.ndarray:
    if dtype not in _NUMPY:
        raise WireError(f"dtype {dtype!r} is not allowed")
    if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
        raise WireError(f"bad shape {shape!r}")
    if math.prod(shape) * np.dtype(dtype).itemsize != len(buffer):
        raise WireError(f"{len(buffer)} bytes do not make an array of shape {shape} and dtype {dtype}")
    return np.frombuffer(buffer, dtype=np.dtype(dtype)).reshape(shape).copy()


class Decoder:
    """Turns JSON plus buffers back into values; ``ref(obj)`` decodes ``{"$ref": ...}`` (else WireError).

    ``grad=True`` makes tensors sent with ``"grad": true`` leaves that require grad. After a call,
    ``tensors`` and ``generators`` list the tensors and generators made, in order (as the Encoder met them),
    and ``flags`` says for each tensor whether it was sent with ``"grad": true``.
    """

    def __init__(self, buffers: list[bytes], ref: Callable[[dict], Any] | None = None, grad: bool = False):
        self.tensors: list[torch.Tensor] = []
        self.flags: list[bool] = []
        self.generators: list[torch.Generator] = []
        self._buffers, self._ref, self._grad = buffers, ref, grad

    def _buffer(self, index: Any) -> bytes:
        if type(index) is not int or not 0 <= index < len(self._buffers):
            raise WireError(f"no buffer {index!r}")
        return self._buffers[index]

    def __call__(self, obj: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise WireError(f"values nest deeper than {MAX_DEPTH} levels")
        if obj is None or type(obj) in (bool, int, float, str):
            return obj
        if type(obj) is list:
            return [self(v, depth + 1) for v in obj]
        if type(obj) is not dict or not obj or not next(iter(obj)).startswith("$"):
            raise WireError(f"unknown value {str(obj)[:80]}")
        tag, body = next(iter(obj.items()))
        try:
            return self._tagged(tag, body, obj, depth)
        except (TypeError, ValueError, RuntimeError, KeyError) as err:
            raise WireError(f"bad {tag}: {err}") from None

    def _tagged(self, tag: str, body: Any, obj: dict, depth: int) -> Any:
        if tag in ("$tuple", "$set", "$frozenset"):
            return {"$tuple": tuple, "$set": set, "$frozenset": frozenset}[tag](self(v, depth + 1) for v in body)
        if tag == "$dict":
            return {self(k, depth + 1): self(v, depth + 1) for k, v in body}
        if tag == "$complex":
            return complex(float(body[0]), float(body[1]))
        if tag == "$bytes":
            return bytes(self._buffer(body))
        if tag == "$tensor":
            name = obj["dtype"]
            if name not in _TORCH:
                raise WireError(f"tensor dtype {name!r} is not allowed")
            tensor = torch.from_numpy(_array(self._buffer(body), _TORCH[name], obj["shape"]))
            tensor = tensor.view(torch.bfloat16) if name == "bfloat16" else tensor
            if self._grad and obj.get("grad") is True and tensor.is_floating_point():
                tensor.requires_grad_(True)
            self.tensors.append(tensor)
            self.flags.append(obj.get("grad") is True)
            return tensor
        if tag in ("$ndarray", "$npscalar"):
            array = _array(self._buffer(body), obj["dtype"], obj["shape"])
            return array if tag == "$ndarray" else array[()]
        if tag == "$size":
            return torch.Size([int(n) for n in body])
        if tag == "$dtype":
            if body not in _TORCH:
                raise WireError(f"dtype {body!r} is not allowed")
            return getattr(torch, body)
        if tag == "$device":
            return torch.device(str(body))
        if tag == "$generator":
            generator = torch.Generator()
            generator.set_state(torch.from_numpy(_array(self._buffer(body), "|u1", [len(self._buffer(body))])))
            self.generators.append(generator)
            return generator
        if tag == "$ref" and self._ref is not None:
            return self._ref(obj)
        raise WireError(f"unknown tag {tag!r}")


def send(stream: io.RawIOBase, message: dict, buffers: list[bytes] = ()) -> None:
    """Write one message (a JSON-able dict; NaN and infinities allowed) and its buffers to ``stream``."""
    body = json.dumps({**message, "buffers": [len(b) for b in buffers]}).encode()
    size = sum(len(b) for b in buffers)
    if len(body) + size > MAX_MESSAGE:
        raise WireError(f"message of {len(body) + size} bytes is larger than {MAX_MESSAGE}")
    for part in (len(body).to_bytes(8, "big") + size.to_bytes(8, "big"), body, *buffers):
        view = memoryview(part)
        while view:
            view = view[stream.write(view):]


def _read(stream: io.RawIOBase, n: int) -> bytes:
    data = bytearray(n)
    view, got = memoryview(data), 0
    while got < n:
        k = stream.readinto(view[got:])
        if not k:
            raise EOFError("the other side closed the channel")
        got += k
    return bytes(data)


def receive(stream: io.RawIOBase) -> tuple[dict, list[bytes]]:
    """Read one message from ``stream``: ``(message, buffers)``. EOFError when the writer is gone."""
    header = _read(stream, 16)
    n_json, n_buffers = int.from_bytes(header[:8], "big"), int.from_bytes(header[8:], "big")
    if n_json + n_buffers > MAX_MESSAGE:
        raise WireError(f"message of {n_json + n_buffers} bytes is larger than {MAX_MESSAGE}")
    try:
        message = json.loads(_read(stream, n_json))
    except (ValueError, RecursionError) as err:
        raise WireError(f"not JSON: {err}") from None
    lengths = message.get("buffers") if type(message) is dict else None
    if type(lengths) is not list or not all(type(n) is int and n >= 0 for n in lengths) or sum(lengths) != n_buffers:
        raise WireError("buffer lengths do not match the frame")
    data = _read(stream, n_buffers)
    offsets = np.cumsum([0, *lengths])
    return message, [data[a:b] for a, b in zip(offsets[:-1], offsets[1:])]
