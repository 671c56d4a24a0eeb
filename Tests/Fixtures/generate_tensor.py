"""Expected values for Tests/BeamlineTensorTests (tensor core), from NumPy.

Run from the repository root:  python3 Tests/Fixtures/generate_tensor.py
Writes Tests/BeamlineTensorTests/Fixtures/tensor.json (see fixturelib.py).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from fixturelib import write  # noqa: E402

rng = np.random.default_rng(20261122)
x = rng.standard_normal((3, 4, 5))
y = rng.standard_normal((4, 5))
v = rng.standard_normal(5)
c = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
col = rng.standard_normal((3, 1, 5))
row = rng.standard_normal((1, 4, 1))
# Exactly representable inputs for the bit-exact pairwise-sum checks
# (the same formula is evaluated in Swift).
n = 100_003
exact = ((np.arange(n) * 7919) % 10007) / 1024.0 - 4.1
m = rng.standard_normal((37, 129))

out = {
    "x": x, "y": y, "v": v, "c": c, "col": col, "row": row, "m": m,
    # views
    "x[1,1:3,::-2]": x[1, 1:3, ::-2],
    "x[...,2]": x[..., 2],
    "x[::2,-1,1:4:2]": x[::2, -1, 1:4:2],
    "x[-1:-4:-1,::3,-2:]": x[-1:-4:-1, ::3, -2:],
    "x.transpose(2,0,1)": x.transpose(2, 0, 1),
    "x.transpose(2,0,1).reshape(5,12)": x.transpose(2, 0, 1).reshape(5, 12),
    "x[:,None,1]": x[:, None, 1],
    # arithmetic with broadcasting
    "x+y": x + y, "x*v": x * v, "x[:,:1,:]-y": x[:, :1, :] - y, "col*row": col * row,
    "x/2.5": x / 2.5, "2.5-x": 2.5 - x, "v/x": v / x,
    "x.T+v[:,None,None]": x.T + v[:, None, None],
    # math
    "exp(x)": np.exp(x), "log(abs(x))": np.log(np.abs(x)), "sqrt(abs(x))": np.sqrt(np.abs(x)),
    "sin(x)": np.sin(x), "cos(x)": np.cos(x), "tan(x)": np.tan(x), "pow(abs(x),1.7)": np.power(np.abs(x), 1.7),
    "clip(x,-0.5,0.5)": np.clip(x, -0.5, 0.5), "maximum(x,y)": np.maximum(x, y),
    "minimum(x,v)": np.minimum(x, v), "where(x>0,x,y)": np.where(x > 0, x, y),
    "x>y": x > y, "x<=0.1": x <= 0.1,
    # casts
    "(x*10).astype(int32)": (x * 10).astype(np.int32),
    "(abs(x)*50).astype(uint8)": (np.abs(x) * 50).astype(np.uint8),
    "(x>0).astype(float64)": (x > 0).astype(np.float64),
    "c.astype(float64)": c.real.copy(),
    # complex
    "c.real": c.real, "c.imag": c.imag, "conj(c)": np.conj(c), "abs(c)": np.abs(c),
    "exp(c)": np.exp(c), "sqrt(c)": np.sqrt(c), "log(c)": np.log(c), "angle(c)": np.angle(c),
    "c*c": c * c, "c/c[::-1]": c / c[::-1],
    # reductions
    "x.sum()": np.array(x.sum()), "x.sum(0)": x.sum(axis=0), "x.sum(1)": x.sum(axis=1),
    "x.sum(2)": x.sum(axis=2), "x.sum((0,2))": x.sum(axis=(0, 2)),
    "x.transpose(2,0,1).sum(1)": x.transpose(2, 0, 1).sum(axis=1),
    "x.sum(1,keepdims)": x.sum(axis=1, keepdims=True),
    "exact.sum()": np.array(exact.sum()),
    "exact[::3].sum()": np.array(exact[::3].sum()),
    "m.sum(0)": m.sum(axis=0), "m.sum(1)": m.sum(axis=1),
    "x.mean()": np.array(x.mean()), "x.mean(1)": x.mean(axis=1),
    "x.var()": np.array(x.var()), "x.var(0,ddof=1)": x.var(axis=0, ddof=1), "x.std(2)": x.std(axis=2),
    "c.var()": np.array(c.var()), "c.sum(1)": c.sum(axis=1), "c.mean()": np.array(c.mean()),
    "norm(x)": np.array(np.linalg.norm(x)), "norm(c)": np.array(np.linalg.norm(c)),
    "norm(x,axis=1)": np.linalg.norm(x, axis=1), "norm(v,1)": np.array(np.linalg.norm(v, 1)),
    "norm(v,inf)": np.array(np.linalg.norm(v, np.inf)),
    "x.max(1)": x.max(axis=1), "x.min(2)": x.min(axis=2), "x.max()": np.array(x.max()),
    "x.argmax(0)": x.argmax(axis=0), "x.argmin(2)": x.argmin(axis=2),
    "x.argmax()": np.array(x.argmax()), "x.argmin()": np.array(x.argmin()),
    "dot(v,v[::-1])": np.array(np.dot(v, v[::-1])),
    # creation
    "linspace(0,1,7)": np.linspace(0, 1, 7), "linspace(-3,5,10,endpoint=False)": np.linspace(-3, 5, 10, endpoint=False),
    "arange(0.5,3.2,0.3)": np.arange(0.5, 3.2, 0.3), "arange(-2,2,0.5)": np.arange(-2, 2, 0.5),
    "eye(3)": np.eye(3),
    # single precision
    "x32+y32": x.astype(np.float32) + y.astype(np.float32),
    "exp(x32)": np.exp(x.astype(np.float32)),
}
here = os.path.dirname(os.path.abspath(__file__))
write(os.path.join(here, "..", "BeamlineTensorTests", "Fixtures", "tensor.json"), out)
print("wrote tensor.json with", len(out), "entries")
