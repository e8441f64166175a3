"""huiqi (会期): meeting and reporting cadences as rules, obligations and evidence.

The package is layered; a module imports only from its own package or a lower layer, and the
packages of one layer do not import each other (import-linter checks it, see pyproject.toml):

    cli                                   the ``huiqi`` command
    web                                   pages, forms, JSON API, feeds, sign-in
    reminders | calendar | audit | demo   the capabilities
    store | transports                    the database; mail and group-chat robots
    config, rulefiles, tables, templating read the deployment's own files
    core                                  pure: periods, rules, compliance, words
"""
