"""`@frozen`: what `@dataclass(frozen=True)` makes, for a fraction of its import cost.

Before Python 3.13 the dataclass decorator compiles six methods per class from source and builds
the docstring through `inspect.signature`: about 1 ms a class here, so the syntax tree's fifty
node classes cost every `villkor check` 40–60 ms. Here `dataclass()` only records the fields
(`dataclasses.fields`, `replace`, `asdict` still work), `__init__` is compiled as the dataclass
compiles it (same signature, annotations, defaults), and `==`, `hash`, `repr` and the frozen
`__setattr__`/`__delattr__` are closures over the field names behaving as the generated ones.
tests/test_cold_start.py compares every such class with its `@dataclass(frozen=True)` twin.

Only plain fields, with or without a default; a default factory, an `init=False` or
keyword-only field, `__post_init__`, an own `__eq__` (…) or a base with fields is refused when
the class is defined rather than done differently.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from operator import attrgetter
from reprlib import recursive_repr
from typing import TYPE_CHECKING, Any, TypeVar, cast

T = TypeVar("T")

_WRITTEN = ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__", "__delattr__",
            "__post_init__")


def _key(names: tuple[str, ...]) -> Callable[[Any], tuple]:
    """The fields' values as a tuple, as the dataclass's `(self.a, self.b,)`."""
    if not names:
        return lambda self: ()
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda self: (one(self),)
    return attrgetter(*names)


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):   # always, under `from __future__ import annotations`
        return repr(annotation)
    import inspect

    return inspect.formatannotation(annotation)


def _init(cls: type, fields: tuple[dataclasses.Field, ...]) -> Callable[..., None]:
    """`__init__` compiled as the dataclass compiles it: module globals, the types and
    defaults as closure variables, each field set through `object.__setattr__`."""
    scope: dict[str, Any] = {"_set": object.__setattr__, "_return_type": None}
    params, body = ["self"], []
    for f in fields:
        scope[f"_type_{f.name}"] = f.type
        param = f"{f.name}:_type_{f.name}"
        if f.default is not dataclasses.MISSING:
            scope[f"_dflt_{f.name}"] = f.default
            param += f"=_dflt_{f.name}"
        params.append(param)
        body.append(f"  _set(self,{f.name!r},{f.name})")
    text = (f"def __create_fn__({', '.join(scope)}):\n"
            f" def __init__({','.join(params)})->_return_type:\n"
            + "\n".join(f" {line}" for line in body or ["  pass"])
            + "\n return __init__")
    namespace: dict[str, Any] = {}
    # dont_inherit: not this module's `from __future__ import annotations`, as in dataclasses.py
    code = compile(text, "<string>", "exec", dont_inherit=True)
    exec(code, sys.modules[cls.__module__].__dict__, namespace)
    return namespace["__create_fn__"](**scope)


def _frozen(cls: type[T]) -> type[T]:
    own_doc = cls.__dict__.get("__doc__")
    if not own_doc:
        cls.__doc__ = "-"   # dataclass() would format one through inspect; done below
    written = [name for name in _WRITTEN if name in cls.__dict__]
    if written or any(hasattr(base, "__dataclass_fields__") for base in cls.__mro__[1:]):
        raise TypeError(f"@frozen {cls.__name__}: defines {', '.join(written) or 'no method'}"
                        " or inherits fields; use @dataclass(frozen=True)")
    dataclasses.dataclass(init=False, repr=False, eq=False)(cls)
    fields = dataclasses.fields(cast(Any, cls))
    odd = [f.name for f in fields if f.default_factory is not dataclasses.MISSING or not f.init
           or f.kw_only is True or f.name in ("self", "_set", "_return_type")]
    if odd:
        raise TypeError(f"@frozen {cls.__name__}: fields {', '.join(odd)} need "
                        "@dataclass(frozen=True)")
    names = tuple(f.name for f in fields)
    compared = _key(tuple(f.name for f in fields if f.compare))
    hashed = _key(tuple(f.name for f in fields
                        if (f.compare if f.hash is None else f.hash)))
    shown = tuple(f.name for f in fields if f.repr)
    assigned = frozenset(names)

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            return compared(self) == compared(other)
        return NotImplemented

    def __hash__(self):
        return hash(hashed(self))

    @recursive_repr()
    def __repr__(self):
        return (self.__class__.__qualname__ + "("
                + ", ".join([f"{name}={getattr(self, name)!r}" for name in shown]) + ")")

    def __setattr__(self, name, value):
        if type(self) is cls or name in assigned:
            raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self, name):
        if type(self) is cls or name in assigned:
            raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    methods: dict[str, Callable] = {
        "__init__": _init(cls, fields), "__repr__": __repr__, "__eq__": __eq__,
        "__hash__": __hash__, "__setattr__": __setattr__, "__delattr__": __delattr__}
    for name, fn in methods.items():
        fn.__qualname__ = f"{cls.__qualname__}.{name}"
        setattr(cls, name, fn)
    if not own_doc:
        cls.__doc__ = cls.__name__ + "(" + ", ".join(
            f"{f.name}: {_annotation(f.type)}"
            + ("" if f.default is dataclasses.MISSING else f" = {f.default!r}")
            for f in fields) + ")"
    return cls


if TYPE_CHECKING:   # type checkers see a frozen dataclass
    from dataclasses import field

    from typing_extensions import dataclass_transform

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def frozen(cls: type[T]) -> type[T]: ...
else:
    frozen = _frozen
