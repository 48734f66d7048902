"""Authoring: one jupytext source per notebook becomes its student and solution notebooks."""
