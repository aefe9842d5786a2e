"""get / serialize / deserialize, once, for every fastreg family (private).

:mod:`fastreg.regularizers`, :mod:`fastreg.initializers` and
:mod:`fastreg.activations` each describe themselves with a :class:`Family`
(their built-in names, their Keras module string, what ``None`` stands for)
and hand their public ``get``, ``serialize`` and ``deserialize`` to it, so
the three follow the same rules:

* **one lookup order** for every name (a string, a dict's
  ``registered_name`` then its ``class_name``, a serialized function's
  name): the ``custom_objects`` argument, the active
  :func:`fastreg.utils.custom_object_scope` dictionaries (innermost first),
  the :func:`fastreg.utils.register_keras_serializable` registry, then the
  family's built-in names (:func:`fastreg.utils.get_registered_object`);
* **one format for custom objects**: ``{"module": None, "class_name",
  "config", "registered_name"}`` with ``"Package>name"`` (or the class name
  when unregistered) as Keras 2 writes it; built-ins carry their Keras
  module string (``"keras.regularizers"``) and ``registered_name`` None.

>>> class Half:
...     def __init__(self, f=0.5):
...         self.f = f
...     def get_config(self):
...         return {"f": self.f}
>>> fam = Family("thing", "keras.things", {"Half": Half})
>>> fam.serialize(Half(0.25))
{'module': 'keras.things', 'class_name': 'Half', 'config': {'f': 0.25}, 'registered_name': None}
>>> fam.get({"class_name": "Half", "config": {"f": 0.25}}).f
0.25
>>> fam.get("bogus")  # doctest: +ELLIPSIS
Traceback (most recent call last):
    ...
ValueError: Unknown thing: 'bogus'. Please ensure ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from fastreg import utils


class Family:
    """The Keras serialization rules for one kind of object.

    Args:
        kind: The noun used in error messages (``"regularizer"``,
            ``"activation function"``), as Keras's ``printable_module_name``.
        module: The ``"module"`` string built-ins are serialized with.
        builtins: ``{name: class_or_function}`` the family knows by name,
            looked up after custom objects and the registry.
        functions_as_dicts: Serialize plain functions as Keras 2.13+'s
            ``{"module": "builtins", "class_name": "function", ...}`` dict
            rather than as their (registered) name.
        default: What ``None`` stands for in ``get``, ``serialize`` and
            ``deserialize`` (``None``; activations: ``linear``).
        factories: Names that :meth:`deserialize` turns into a fresh object
            by calling the value, before any lookup (Keras 2's ``"l1_l2"``).

    >>> fam = Family("thing", "keras.things", {"dict": dict})
    >>> fam.deserialize({"class_name": "dict", "config": {"a": 1}})
    {'a': 1}
    """

    def __init__(
        self,
        kind: str,
        module: str,
        builtins: Mapping[str, Any],
        *,
        functions_as_dicts: bool = False,
        default: Any = None,
        factories: Mapping[str, Callable[[], Any]] | None = None,
    ) -> None:
        self.kind = kind
        self.module = module
        self.builtins = dict(builtins)
        self.functions_as_dicts = functions_as_dicts
        self.default = default
        self.factories = dict(factories or {})
        # built-in classes serialize with the family's Keras module string
        self._classes = {v for v in self.builtins.values() if inspect.isclass(v)}

    # ---- names ------------------------------------------------------------

    def lookup(self, name: str, custom_objects: Mapping[str, Any] | None) -> Any:
        """The object known as ``name`` (see the module docstring), or None."""
        return utils.get_registered_object(name, custom_objects, self.builtins)

    def unknown(self, name: Any) -> ValueError:
        """The error for a name nothing answers to."""
        return ValueError(
            f"Unknown {self.kind}: {name!r}. Please ensure this object is registered with "
            "`fastreg.utils.register_keras_serializable`, passed in `custom_objects`, or "
            "in an active `fastreg.utils.custom_object_scope`."
        )

    # ---- serialize --------------------------------------------------------

    def serialize(self, obj: Any, legacy: bool = False) -> Any:
        """An object's Keras config: a dict, a name (functions), or None.

        ``legacy=True`` gives TF 2.4's ``{"class_name", "config"}`` (a custom
        class's ``class_name`` is then its registered name) and a function's
        name.
        """
        if obj is None:
            obj = self.default
            if obj is None:
                return None
        if hasattr(obj, "get_config") and not inspect.isclass(obj):
            config = obj.get_config()
            cls = type(obj)
            registered = utils._GLOBAL_CUSTOM_NAMES.get(cls)
            if legacy:
                return {"class_name": registered or cls.__name__, "config": config}
            if registered is None and cls in self._classes:
                return {
                    "module": self.module,
                    "class_name": cls.__name__,
                    "config": config,
                    "registered_name": None,
                }
            return {
                "module": None,
                "class_name": cls.__name__,
                "config": config,
                "registered_name": registered or cls.__name__,
            }
        if callable(obj) and hasattr(obj, "__name__"):
            name = utils.get_registered_name(obj)
            if legacy or not self.functions_as_dicts:
                return name
            return {
                "module": "builtins",
                "class_name": "function",
                "config": name,
                "registered_name": "function",
            }
        raise ValueError(f"Cannot serialize {obj!r}: not a {self.kind} or a function")

    # ---- deserialize ------------------------------------------------------

    def deserialize(self, config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
        """The object a name or a serialized dict (either Keras form) describes.

        A class named by a string is instantiated with no arguments; a
        function is returned as it is; callables are returned unchanged.
        """
        if config is None:
            return self.default
        if isinstance(config, str):
            if config in self.factories:
                return self.factories[config]()
            obj = self.lookup(config, custom_objects)
            if obj is None:
                raise self.unknown(config)
            return obj() if inspect.isclass(obj) else obj
        if isinstance(config, dict):
            return self._from_dict(config, custom_objects)
        if callable(config):
            return config
        raise ValueError(f"Could not interpret serialized {self.kind}: {config!r}")

    def _from_dict(self, config: dict[str, Any], custom_objects: Mapping[str, Any] | None) -> Any:
        if "class_name" not in config or "config" not in config:
            raise ValueError(
                f"Improper config format for {config}. "
                "Expecting python dict contains `class_name` and `config` as keys"
            )
        class_name = config["class_name"]
        inner = config["config"]
        if class_name == "function":
            # a serialized plain function: config is its (registered) name
            if not isinstance(inner, str):
                raise ValueError(
                    f"Improper config format for {config}: a function's config is its name"
                )
            fn = self.lookup(inner, custom_objects)
            if fn is None:
                raise self.unknown(inner)
            return fn
        if not isinstance(class_name, str):
            raise ValueError(f"Improper config format for {config}: class_name must be a string")
        if not isinstance(inner, dict):
            raise ValueError(
                f"Improper config format for {config}: config must be a dict, "
                f"got {type(inner).__name__}"
            )
        registered = config.get("registered_name")
        obj = None
        if isinstance(registered, str):
            obj = self.lookup(registered, custom_objects)
        if obj is None:
            obj = self.lookup(class_name, custom_objects)
        if obj is None:
            raise self.unknown(class_name)
        if inspect.isclass(obj) and hasattr(obj, "from_config"):
            # nested custom objects in the config resolve through the same names
            with utils.custom_object_scope(custom_objects):
                return obj.from_config(inner)
        if callable(obj):
            # a function that builds the object (l1_l2): the config holds its kwargs (TF 2.4)
            return obj(**inner)
        raise self.unknown(class_name)

    # ---- get --------------------------------------------------------------

    def get(self, identifier: Any) -> Any:
        """Keras's ``get``: a name or dict → :meth:`deserialize`; a class → an instance.

        Instances and functions are returned as they are.
        """
        if identifier is None:
            return self.default
        if isinstance(identifier, (dict, str)):
            # as Keras 2: what deserialize gives, without judging it
            return self.deserialize(identifier)
        if inspect.isclass(identifier):
            return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} identifier: {identifier}")
