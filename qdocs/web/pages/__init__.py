"""The pages, one module per group; each GET page has its JSON twin (:func:`..responses.page`)."""
