#!/usr/bin/python3
"""Writes torch.save-style checkpoints with the Python standard library only.

Emulates what `torch.save(obj, f)` (zip format, pickle protocol 2 by default)
writes: stub modules `torch` and `torch._utils` are registered in sys.modules
so that pickle emits the same GLOBAL torch._utils._rebuild_tensor_v2 /
BINPERSID ('storage', torch.FloatStorage, key, 'cpu', numel) / REDUCE stream,
and the archive is laid out as `<name>/data.pkl`, `<name>/data/<key>`,
`<name>/version` (entries stored, not compressed).

Usage: make_torch_checkpoints.py OUT_DIR

Writes into OUT_DIR:
  state_dict.bin        OrderedDict of F32/F16/I64 tensors (protocol 2), with a
                        transposed (non-contiguous) tensor and two tensors
                        sharing one storage at different offsets
  state_dict_p4.bin     the same state dict pickled with protocol 4
  lightning.ckpt        dict: state_dict (OrderedDict), global_step, epoch,
                        callbacks (object of an unknown class), a list, a str
  bad_stride.bin        a tensor whose size/stride reach past its storage
  truncated_pkl.bin     data.pkl cut in half
  unknown_opcode.bin    data.pkl with an undefined opcode (0xff) after PROTO
  expected.txt          one line per tensor of state_dict.bin:
                        name dtype ndim d0 .. dn-1 count v0 .. vcount-1
                        (values in logical row-major order)
"""

import collections
import io
import os
import pickle
import struct
import sys
import types
import zipfile

# --- stub torch modules -----------------------------------------------------

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch.__path__ = []  # a package, so torch._utils resolves
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    raise RuntimeError("stub")


_rebuild_tensor_v2.__module__ = "torch._utils"
torch_utils._rebuild_tensor_v2 = _rebuild_tensor_v2

STORAGE_FORMATS = {}  # storage class name -> (struct format, element size)
for _name, _fmt in [("FloatStorage", "f"), ("HalfStorage", "e"), ("DoubleStorage", "d"), ("LongStorage", "q"),
                    ("IntStorage", "i"), ("ShortStorage", "h"), ("CharStorage", "b"), ("ByteStorage", "B"),
                    ("BoolStorage", "?")]:
    _cls = type(_name, (object,), {"__module__": "torch"})
    setattr(torch, _name, _cls)
    STORAGE_FORMATS[_name] = _fmt


class Storage:
    """One storage: a typed flat buffer with a key in the archive."""

    def __init__(self, key, kind, values):
        self.key = key
        self.kind = kind  # e.g. "FloatStorage"
        self.values = list(values)

    def raw(self):
        fmt = STORAGE_FORMATS[self.kind]
        return struct.pack("<%d%s" % (len(self.values), fmt), *self.values)


class Tensor:
    def __init__(self, storage, offset, size, stride, requires_grad=False):
        self.storage = storage
        self.offset = offset
        self.size = tuple(size)
        self.stride = tuple(stride)
        self.requires_grad = requires_grad

    def __reduce_ex__(self, protocol):
        # What torch.Tensor._reduce_ex_internal returns for a CPU tensor.
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, self.requires_grad,
                                     collections.OrderedDict()))

    def logical_values(self):
        out = []

        def rec(dim, base):
            if dim == len(self.size):
                out.append(self.storage.values[base])
                return
            for i in range(self.size[dim]):
                rec(dim + 1, base + i * self.stride[dim])

        rec(0, self.offset)
        return out


# An unknown class, pickled like any user object (NEWOBJ + BUILD).
for _pkg in ["pytorch_lightning", "pytorch_lightning.callbacks"]:
    sys.modules[_pkg] = types.ModuleType(_pkg)
    sys.modules[_pkg].__path__ = []
lightning = types.ModuleType("pytorch_lightning.callbacks.model_checkpoint")
sys.modules["pytorch_lightning.callbacks.model_checkpoint"] = lightning
sys.modules["pytorch_lightning"].callbacks = sys.modules["pytorch_lightning.callbacks"]
sys.modules["pytorch_lightning.callbacks"].model_checkpoint = lightning


class ModelCheckpoint:
    def __init__(self):
        self.monitor = "val_loss"
        self.best_model_score = 0.25


ModelCheckpoint.__module__ = "pytorch_lightning.callbacks.model_checkpoint"
lightning.ModelCheckpoint = ModelCheckpoint


class TorchPickler(pickle.Pickler):
    def __init__(self, f, protocol):
        super().__init__(f, protocol=protocol)
        self.storages = collections.OrderedDict()

    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            self.storages[obj.key] = obj
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", len(obj.values))
        return None


def save(obj, path, protocol=2, mangle=None):
    buf = io.BytesIO()
    pickler = TorchPickler(buf, protocol)
    pickler.dump(obj)
    data = buf.getvalue()
    if mangle is not None:
        data = mangle(data)
    name = os.path.splitext(os.path.basename(path))[0]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(name + "/data.pkl", data)
        for key, storage in pickler.storages.items():
            z.writestr(name + "/data/" + key, storage.raw())
        z.writestr(name + "/version", "3\n")


def state_dict():
    sd = collections.OrderedDict()
    w = Storage("0", "FloatStorage", [0.5 * i - 1.0 for i in range(6)])
    sd["layer.weight"] = Tensor(w, 0, (2, 3), (3, 1))
    # Transposed view of a 2x3 storage: size (3, 2), stride (1, 3).
    t = Storage("1", "FloatStorage", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    sd["layer.weight_t"] = Tensor(t, 0, (3, 2), (1, 3))
    # Two tensors sharing one storage at different offsets.
    shared = Storage("2", "FloatStorage", [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0])
    sd["shared.a"] = Tensor(shared, 0, (4,), (1,))
    sd["shared.b"] = Tensor(shared, 4, (3,), (1,))
    h = Storage("3", "HalfStorage", [0.5, -1.25, 2.0, 1024.0])
    sd["half.bias"] = Tensor(h, 0, (4,), (1,))
    ids = Storage("4", "LongStorage", [0, -1, 2 ** 40, 7, 3])
    sd["position_ids"] = Tensor(ids, 0, (1, 5), (5, 1))
    scalar = Storage("5", "FloatStorage", [3.25])
    sd["scale"] = Tensor(scalar, 0, (), ())
    # What nn.Module.state_dict() attaches.
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("layer", {"version": 1})])
    return sd


DTYPES = {"FloatStorage": "F32", "HalfStorage": "F16", "LongStorage": "I64"}


def write_expected(sd, path):
    with open(path, "w") as f:
        for name, t in sd.items():
            vals = t.logical_values()
            fields = [name, DTYPES[t.storage.kind], str(len(t.size))] + [str(d) for d in t.size]
            fields += [str(len(vals))] + [repr(v) for v in vals]
            f.write(" ".join(fields) + "\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sd = state_dict()
    save(sd, os.path.join(out, "state_dict.bin"))
    save(sd, os.path.join(out, "state_dict_p4.bin"), protocol=4)
    write_expected(sd, os.path.join(out, "expected.txt"))

    ckpt = {
        "epoch": 3,
        "global_step": 1234,
        "pytorch-lightning_version": "1.9.0",
        "state_dict": sd,
        "callbacks": ModelCheckpoint(),
        "lr_schedulers": [{"last_epoch": 2, "gamma": 0.5}],
        "big": 2 ** 62,
    }
    save(ckpt, os.path.join(out, "lightning.ckpt"))

    bad = collections.OrderedDict()
    s = Storage("0", "FloatStorage", [0.0] * 10)
    bad["ok"] = Tensor(s, 0, (2, 5), (5, 1))
    bad["bad.weight"] = Tensor(s, 0, (4, 4), (4, 1))
    save(bad, os.path.join(out, "bad_stride.bin"))

    save(sd, os.path.join(out, "truncated_pkl.bin"), mangle=lambda d: d[: len(d) // 2])
    save(sd, os.path.join(out, "unknown_opcode.bin"), mangle=lambda d: d[:2] + b"\xff" + d[2:])


if __name__ == "__main__":
    main()
