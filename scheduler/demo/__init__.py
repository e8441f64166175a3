"""The demo county (``huiqi demo``): an invented county shaped like the bundled policy's, with
its people and a year of evidence, generated from a seed.

Imports the store, the deployment readers and the core; not another capability, nor a face.
"""
