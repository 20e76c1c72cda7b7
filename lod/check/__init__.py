"""Checking a running deployment from outside, as a Linked Data client (`lod check`)."""
