"""The scenario format: a YAML file that states a story step by step, its reader, its runner and its timeline."""
