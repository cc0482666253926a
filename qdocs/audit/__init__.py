"""Completeness audit and the release gate (issue 5).

* :mod:`.rules` reads the rules file (release rules R1-R11, after-sales rules
  A1-A4, references) — data a company edits, checked line by line;
* :mod:`.references` checks the references of a record being created;
* :mod:`.snapshot` reads the metadata of every record as of a commit (HEAD, or the
  last commit on or before a date) from git, through a cache of extracted facts;
* :mod:`.release` and :mod:`.aftersales` evaluate the rules; :mod:`.evaluation`
  assembles the report that :mod:`.textreport` and :mod:`.htmlreport` show;
* :mod:`.suppliers` derives the qualified supplier list.

The audit reads ``record.yaml`` metadata only, never the ``.docx`` files.
"""
