"""18.0.1.8.1: the history is indexed in its list's order (date, id).

That index serves the date filters too: the date's own index, which core
keeps once a field is no longer indexed, is dropped.
"""


def migrate(cr, version):
    cr.execute("DROP INDEX IF EXISTS crm_relationship_history__date_index")
