"""Profiles: the dialect of one deployment, so the personas can load any backend. Stdlib only (tomllib).

`model` reads and checks a profile, `operations` is the vocabulary of what the
personas do, `openapi` holds a profile against a deployment's OpenAPI document
and drafts one from it. The built-in profiles are the `*.toml` files here.
"""
