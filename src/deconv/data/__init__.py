"""Getting the photos: download, check, extract and arrange them, or draw the synthetic sample.

- ``sources``: the registered archives, their addresses, sizes and checksums;
- ``fetch``: a download that resumes, retries and verifies;
- ``archive``: zip extraction that a hostile archive cannot abuse;
- ``images``: whether a file decodes as a photo, and re-encoding the odd ones;
- ``arrange``: an extracted archive's photos into ``{train,validation}/{cats,dogs}/``;
- ``prepare``: the whole job, all or nothing, with its manifest (``scripts/download_data.py``);
- ``sample``: the synthetic drawn cats and dogs, made offline from a seed.

These modules use only the foundation of the package (``paths``, ``layout``),
never the modules the notebooks teach with.
"""
