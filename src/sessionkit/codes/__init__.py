"""Identifier and code-set modules, python-stdnum style.

Each identifier module (:mod:`npi`, :mod:`icd10`, :mod:`hcpcs`,
:mod:`modifier`, :mod:`pos`, :mod:`ein`, :mod:`usps`,
:mod:`zipcode`) has ``compact``, ``validate``,
``is_valid`` and ``format``; :mod:`behavioral` holds the behavioural-health
code rules as data.
"""

from __future__ import annotations

from sessionkit.codes import behavioral, ein, hcpcs, icd10, modifier, npi, pos, usps, zipcode

__all__ = ["behavioral", "ein", "hcpcs", "icd10", "modifier", "npi", "pos", "usps", "zipcode"]
