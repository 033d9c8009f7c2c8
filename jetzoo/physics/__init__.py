"""Jet physics helpers: kinematics of four-vectors and jet substructure observables.

Each physics quantity is computed here, in one place.

May import: `jetzoo.io`, `jetzoo.errors` (today it needs neither). Never a room above it.
"""
