"""Makes toupy 0.2.2 importable today, for the peer scripts and the fixture
generators that call its functions.

- toupy uses names its dependencies removed since: scikit-image's
  `register_translation` (0.19), NumPy's `np.int` and `np.complex` aliases
  (1.24); `install()` restores them.
- toupy's package `__init__` imports fabio, numexpr and silx, which the
  functions used here never call; when they are not installed, `install()`
  registers empty stand-ins so that the import succeeds.

Usage (before importing toupy):

    sys.path.insert(0, "<repo>/Benchmarks/peers")
    import toupy_imports
    toupy_imports.install()
"""
import importlib.abc
import importlib.machinery
import sys
import types

ABSENT = ("fabio", "numexpr", "silx")


class _Absent(types.ModuleType):
    """An empty stand-in module: any attribute is a do-nothing class."""
    __path__ = []

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return type(name, (), {"__init__": lambda self, *args, **kwargs: None})


class _AbsentFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves the ABSENT packages (and their submodules) when not installed."""

    def find_spec(self, fullname, path, target=None):
        top = fullname.split(".")[0]
        if top in ABSENT and importlib.machinery.PathFinder.find_spec(top) is None:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _Absent(spec.name)

    def exec_module(self, module):
        pass


def install():
    """Restores the removed names and registers the stand-ins (idempotent)."""
    import numpy as np
    import skimage.feature
    import skimage.registration

    skimage.feature.register_translation = skimage.registration.phase_cross_correlation
    np.int = int
    np.complex = complex
    if not any(isinstance(f, _AbsentFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AbsentFinder())
