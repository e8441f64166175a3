"""The pure core: periods, workdays, the rule language, compliance, reminder planning,
summaries, the annual assessment, the unit tree, access rules, record validation, problems and
words.

No I/O: it imports only the standard library and pure libraries (dateutil, pydantic, PyYAML,
chinese_calendar, holidays), never another huiqi package. "Now" is always a parameter.
"""
