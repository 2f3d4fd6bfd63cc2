"""careerload's base layer: what every package shares, stdlib only, importing no other project package.

The run-directory format (`rundir`), user-facing errors (`errors`), child-process
plumbing and URL redaction (`processes`), the seeded logins (`logins`), and the
shared vocabulary: statuses (`statuses`) and the one job fingerprint
(`fingerprint`). Because it is stdlib only, a Locust worker that imports it pulls
in no Faker, numpy or pydantic. tests/test_layers.py holds the rule.
"""
