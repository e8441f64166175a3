"""The assessment capability: the annual scorecard (考核) as JSON, CSV and the XLSX 考核表 an
assessor signs, with the words that say how scores are computed.

The scoring itself is pure and lives in `scheduler.core.assessment`; the store reads it
(`scheduler.store.reports.scorecards`). Imports the store and the core; not another
capability, nor a face.
"""
