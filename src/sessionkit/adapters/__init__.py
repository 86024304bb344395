"""Adapters: concrete implementations of the ports of :mod:`sessionkit.ports`.

* :mod:`sessionkit.adapters.memory`: every port in memory, the reference
  implementation and the fake used by tests.
* :mod:`sessionkit.adapters.sqlite`: the embedded default, one SQLite file.
* :mod:`sessionkit.adapters.ics` and :mod:`sessionkit.adapters.csv`: calendar
  sources (the first needs the ``ical`` extra).

Import the adapter module you need; this package imports none of them, so
that an adapter's optional dependencies are only needed when it is used.
"""
