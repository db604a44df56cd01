"""Helpers for the reproducible companion to *mechanism* (Tzach et al., 2023) and *universal* (Meir et al., 2024).

One module per step of the method: ``data`` -> ``models`` -> ``train`` / ``runs`` (stage 1) ->
``taps`` -> ``probes`` (stage 2) -> ``filters`` -> ``snr`` (stage 3) -> ``afcc``.
"""
__version__ = "0.1.0"
