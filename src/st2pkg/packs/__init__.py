"""Pack images: resolve st2 packs (index names, git URLs, local repos) and build images.

``source`` parses pack strings, ``spec`` reads the spec YAML, ``index`` reads pack indexes,
``metadata`` validates pack.yaml, ``resolve`` (with ``cycles``) ties them into a pinned,
deduplicated set of checkouts, ``builder`` compiles their requirements into cached wheels,
``image`` (with ``busybox``) builds the images, ``report`` labels them and writes their JSON
reports, and ``commands`` is what tasks.py calls.
"""
