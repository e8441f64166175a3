"""The audit capability: the audit listing (台账) of obligations with their evidence, and its
CSV, print-ready HTML and XLSX renderings.

Imports the store, the deployment readers and the core; not another capability, nor a face.
"""
