"""Checking and grading notebooks: ``course-utils validate`` and ``course-utils grade``."""
