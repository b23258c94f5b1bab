"""Swedish Gherkin step library for testers (pytest-bdd), registered as a pytest plugin."""
