"""imbench's top floor: the command line (`imbench.cli`) and the functions it calls.

Every other room (`foundation`, `datasets`, `strategies`, `benchmarks`, `analysis`) sits below this
package and never imports it.
"""
from __future__ import annotations
