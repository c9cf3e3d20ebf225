"""Pack images: resolve st2 packs (index names, git URLs, local repos) and build images.

``source`` parses pack strings, ``spec`` reads the spec YAML, ``index`` reads pack indexes,
``git`` drives the git CLI, ``metadata`` validates pack.yaml, ``resolve`` ties them into a
pinned, deduplicated set of checkouts, ``image`` (with ``busybox``) builds the images and
``commands`` is what tasks.py calls.
"""
