"""Delivery: mail (a folder of .eml files, or SMTP through yagmail) and group-chat robots
(WeCom, DingTalk) behind one seam, `transports.base.Transport`, whose failures are one error
type that says whether retrying can help.

Imports the core and the deployment readers; never the store, a capability or a face.
"""
