"""The calendar capability: planned meetings and their attendees, the meeting as a calendar
entry, iCalendar documents, invite mails (iMIP) and subscription feeds behind secret tokens.

Imports the store, the transports, the deployment readers and the core; not another
capability, nor a face.
"""
