"""Record forms in the browser: made from the catalog (:mod:`.model`), read back into the
values ``qdocs new`` takes (:mod:`.model`), checked by the library, and posted once
(:mod:`.tokens`)."""
