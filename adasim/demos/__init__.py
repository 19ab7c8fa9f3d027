"""Teaching front ends: the interactive explorer, animations and the lesson page."""
