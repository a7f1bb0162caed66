"""The domain: events, the application aggregate, job posts, resumes, scoring and ports.

Pure: it imports the standard library and pydantic, nothing of ours outside this package and no
framework. import-linter enforces that.
"""
