"""Jet physics helpers: kinematics of four-vectors and jet substructure observables."""
