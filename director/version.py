"""Director's version (pyproject.toml says the same): in a module of its own, so what reports it (the manifest,
the HTTP API) imports neither the package's face nor anything else."""

__version__ = "0.1.0"
