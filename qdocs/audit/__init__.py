"""Completeness audit and the release gate (issue 5).

* :mod:`.rules` reads the rules file (release rules R1-R11, after-sales rules
  A1-A4, references; :mod:`.kinds` and :mod:`.parameters` say what each kind of
  check takes), refusing a mistake with its line (:mod:`.located`);
* :mod:`.references` and :mod:`.lookup` check the references of a record being created;
* :mod:`.snapshot` lists every record of a commit (HEAD, or the last one on or
  before a day, :mod:`.dates`) from git and gets its facts (:mod:`.facts`) from a
  cache by blob id, parsing new ones on two cores (:mod:`.extraction`);
* :mod:`.release`, :mod:`.materials` and :mod:`.production` evaluate the release
  rules per lot, :mod:`.aftersales` the after-sales rules, :mod:`.parallel` on two
  cores when one is free; :mod:`.evaluation` assembles the report that
  :mod:`.textreport` and :mod:`.htmlreport` show;
* :mod:`.suppliers` derives the qualified supplier list;
* :mod:`.demorecords` is the demo's record set, in an order references allow.

The audit reads ``record.yaml`` metadata only, never the ``.docx`` files.
"""
