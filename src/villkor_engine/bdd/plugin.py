"""pytest11 entry point: makes the Swedish steps available to every .feature file."""
