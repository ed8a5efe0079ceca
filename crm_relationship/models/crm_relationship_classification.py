import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

from psycopg2.extensions import TRANSACTION_STATUS_INERROR

from odoo import api, models
from odoo.tools import SQL

from ..tools import lifetime_value

_logger = logging.getLogger(__name__)

ADVISORY_LOCK = 0x43524D52  # "CRMR": namespace of the classification lock
FAILED_PARTNERS_KEPT = 100  # customers a company lists from its last run's failures
# a full run that rewrote more than this share of its customers gathers the
# partner table's statistics (autovacuum's own threshold for it by default)
REWRITTEN_SHARE = 0.1
# one that rewrote more than this share vacuums the partners and rebuilds the
# company's indexes once committed: each holds an entry more for every
# customer rewritten
REBUILT_SHARE = 0.5


class ClassificationBusy(Exception):
    """A company-wide classification of the company holds its lock."""


class RunFailures:
    """The customers whose rules failed during one run of one company: they
    keep their previous values, the others are classified. ``scope``: the
    customers the run holds, classified again or not."""

    def __init__(self, company):
        self.company = company
        self.scope = 0
        self.count = 0
        self.partner_ids = []
        self.first_error = None

    def add(self, partner_id, error):
        # the first failure with its traceback, the others one line each
        _logger.warning(
            "Classification of customer %s in company %s failed: %r",
            partner_id,
            self.company.id,
            error,
            exc_info=self.first_error is None,
        )
        if self.first_error is None:
            self.first_error = error
        self.count += 1
        if len(self.partner_ids) < FAILED_PARTNERS_KEPT:
            self.partner_ids.append(partner_id)


class CrmRelationshipClassification(models.AbstractModel):
    """The classification run: revenue, tier, RFM, status, level, lifetime
    value, care and health fields of every customer, per company.

    One pass per company, under the company's lock: the facts are gathered
    into one table (``crm.relationship.run.facts``), the predictive fit runs
    on the whole company (``crm.relationship.prediction``), then batches of
    customers go through the rules (``crm.relationship.rules``) and only the
    fields that differ from what is stored are written
    (``crm.relationship.writer``), with the history rows they call for
    (``crm.relationship.history``). Nothing is cached, so a value changed by
    any means is repaired by the next run, and memory depends on the batch
    size, not on the number of customers. A customer whose rules fail keeps
    its values; a rule that fails for a whole batch stops the run.
    """

    _name = "crm.relationship.classification"
    _description = "Customer classification engine"

    @api.model
    def _run(self, companies, as_of, partner_ids=None, commit=False, busy=None):
        """Classify the commercial partners ``partner_ids`` (every customer when
        None) of ``companies`` as of ``as_of``; yield the number of partners
        written by each batch. With ``commit``, each batch is committed (cron).

        A run never waits for another run of the same company: it skips that
        company (the other run classifies its customers too), logs it, and
        appends it to ``busy`` when given.
        """
        for company in companies:
            full = partner_ids is None
            try:
                with self._company_lock(company, full):
                    started = time.monotonic()
                    failures = RunFailures(company)
                    read = written = history = 0
                    whale = self.env["crm.relationship.whale.curve"]
                    State = self.env["crm.relationship.run.state"]
                    for batch in self._iter_figures(
                        company, as_of, partner_ids, True, failures
                    ):
                        changed = self.env["crm.relationship.writer"]._changed_rows(
                            company, batch
                        )
                        if changed:
                            self.env["crm.relationship.writer"]._write_rows(
                                company, changed
                            )
                            if not full:
                                whale._forget(company, changed)
                        State._keep(batch, changed)
                        history += self.env["crm.relationship.history"]._write_from_run(
                            company, as_of, batch
                        )
                        read += len(batch)
                        written += len(changed)
                        yield len(changed)
                        if commit:
                            self.env.cr.commit()  # pylint: disable=invalid-commit
                    if full:
                        company._relationship_store_run(failures)
                        Partner = self.env["res.partner"]
                        if written > failures.scope * REWRITTEN_SHARE:
                            Partner._relationship_analyze()
                        if written > failures.scope * REBUILT_SHARE:
                            Partner._relationship_rebuild_indexes(company)
                        whale._keep(company)
                    _logger.info(
                        "Classification of company %s as of %s: %d customers "
                        "classified of %d in scope, %d written, %d history rows, "
                        "%d failed, in %.2fs",
                        company.id,
                        as_of,
                        read,
                        failures.scope,
                        written,
                        history,
                        failures.count,
                        time.monotonic() - started,
                    )
            except ClassificationBusy:
                _logger.info(
                    "Classification of company %s skipped: another run of it is "
                    "under way",
                    company.id,
                )
                if busy is not None:
                    busy.append(company)

    @contextmanager
    def _company_lock(self, company, full):
        """One classification of a company at a time, on any worker; raises
        ``ClassificationBusy`` at once when another run holds the lock.

        Never wait for it: the transaction's snapshot (repeatable read) is
        older than the other run's commits, so writing after them would fail
        with a serialization error. A full run holds a session lock, which
        survives the commits of its batches (the cron); a partial run (a
        button) holds it for its transaction only.
        """
        cr = self.env.cr
        key = (ADVISORY_LOCK, company.id)
        if not full:
            cr.execute(SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", *key))
            if not cr.fetchone()[0]:
                raise ClassificationBusy(company)
            yield
            return
        cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", *key))
        if not cr.fetchone()[0]:
            raise ClassificationBusy(company)
        unlock = SQL("SELECT pg_advisory_unlock(%s, %s)", *key)
        try:
            yield
        except BaseException:
            # Odoo's cursor does not tell whether its transaction failed: ask
            # the connection, since an aborted transaction runs nothing and
            # the lock is then released once rolled back
            if cr._cnx.info.transaction_status == TRANSACTION_STATUS_INERROR:
                cr.postrollback.add(lambda: cr.execute(unlock))
            else:
                cr.execute(unlock)
            raise
        cr.execute(unlock)

    @api.model
    def _iter_figures(
        self,
        company,
        as_of,
        partner_ids=None,
        with_stored=False,
        failures=None,
        sales_only=False,
    ):
        """Yield batches ``{pid: {field: value}}`` of the classification of
        ``company`` as of ``as_of`` (of ``partner_ids`` only when given), without
        writing anything but the company's predictive fit (``with_stored``):
        the KPIs of a past date read them too. With ``with_stored`` each row
        also carries ``"_stored"``, the values held now in the order of
        ``CLASSIFICATION_FIELDS`` (None when a contact holds other values than
        its commercial partner). With ``sales_only`` (the KPIs of a past
        date), the customers with sales alone, as the KPIs count them
        (``crm.relationship.run.facts._build``), and the figures the KPIs read
        alone (``RulesContext.figures_only``).

        A customer whose rules raise is left out of its batch and counted in
        ``failures`` (a ``RunFailures``); when every customer of a batch
        fails, the first error is raised.
        """
        RunFacts = self.env["crm.relationship.run.facts"]
        Rules = self.env["crm.relationship.rules"]
        Prediction = self.env["crm.relationship.prediction"]
        failures = failures or RunFailures(company)
        self.env.flush_all()  # the facts are read with SQL
        failures.scope = RunFacts._build(company, as_of, partner_ids, sales_only)
        # the fit reads the whole company first; the company keeps it before
        # the customers are read
        fits, fit_result = Prediction._fit(company, as_of, partner_ids)
        if with_stored and fit_result is not None:
            company._relationship_store_fit(fit_result, as_of)
        population = (
            RunFacts._buyers(),
            *self._lifetime_retention(company, as_of, partner_ids is None, with_stored),
        )
        context = Rules._rules_context(
            company,
            as_of,
            population,
            fits,
            # the KPIs read no relationship level: they skip measuring the
            # tiers' Kotler classes
            full=partner_ids is None and not sales_only,
        )
        if sales_only:
            context = replace(context, figures_only=True)
        State = self.env["crm.relationship.run.state"]
        changed = None
        if with_stored and partner_ids is None:
            Rules._store_kotler(company, context)
            changed = State._keys(company, context)
            if changed:
                State._begin()
                context = replace(context, dated=True)
        for rows in RunFacts._read(
            company, with_stored, full=partner_ids is None, changed=changed
        ):
            Prediction._predict_batch(rows, context)
            batch = {}
            for row in rows:
                try:
                    batch[row["pid"]] = Rules._classify(row, context)
                except Exception as error:  # noqa: BLE001 - isolated, logged
                    failures.add(row["pid"], error)
            if rows and not batch:
                raise failures.first_error
            yield batch
        if changed:
            State._store(company, changed)
        RunFacts._drop()

    @api.model
    def _lifetime_retention(self, company, as_of, full, keep):
        """``(active in the previous window, retained)`` of ``company`` as of
        the last month end on or before ``as_of``: the retention of the lifetime
        value, which thus moves once a month. A full run counts it from its own
        sales (and, with ``keep``, the company keeps it); a partial run reuses
        what the last full run of the same month end measured rather than
        reading the company's invoices of two windows."""
        day = lifetime_value.retention_date(as_of)
        if not full and company.relationship_retention_date == day:
            return (
                company.relationship_retention_previous,
                company.relationship_retention_retained,
            )
        if full:
            # the run's sales hold the two windows of the month end too
            counts = self.env["crm.relationship.run.facts"]._retention_counts()
        else:
            counts = self.env["crm.relationship.facts"]._retention_counts(company, day)
        if full and keep:
            company._relationship_store_retention(day, counts)
        return counts

    @api.model
    def _auto_commit(self):
        """Whether a cron run may commit its batches (never in tests)."""
        return bool(self.env.context.get("ir_cron_progress_id")) and not getattr(
            threading.current_thread(), "testing", False
        )
