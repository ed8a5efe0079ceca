import psycopg2
from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import CrmRelationshipCommon

INCOMING_EMAIL = """Return-Path: <{email_from}>
From: {from_name} <{email_from}>
To: feedback@example.com
Subject: {subject}
Message-ID: <{msg_id}@example.com>
Date: Wed, 01 Jul 2026 08:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

{body}
"""


class FeedbackCommon(CrmRelationshipCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Feedback = cls.env["crm.relationship.feedback"]
        cls.stage_new = cls.env.ref(
            "crm_relationship.crm_relationship_feedback_stage_new"
        )
        cls.stage_progress = cls.env.ref(
            "crm_relationship.crm_relationship_feedback_stage_in_progress"
        )
        cls.stage_resolved = cls.env.ref(
            "crm_relationship.crm_relationship_feedback_stage_resolved"
        )
        cls.stage_closed = cls.env.ref(
            "crm_relationship.crm_relationship_feedback_stage_closed"
        )
        # two buyers: the first is vip (top 1 %), the second small
        cls.vip = cls._customer("Công ty Siêu Cấp", email="vip@example.com")
        cls.small = cls._customer("Cửa hàng Nhỏ", email="small@example.com")
        cls.prospect = cls._customer("Khách Mới", email="new@example.com")
        cls.vip_contact = cls.env["res.partner"].create(
            {"name": "Chị Lan", "parent_id": cls.vip.id, "email": "lan@example.com"}
        )
        cls._invoice(cls.vip, "2026-05-10", 10000.0)
        cls._invoice(cls.small, "2026-05-12", 100.0)
        (cls.vip | cls.small)._recompute_relationship(
            as_of=cls.as_of, company_ids=cls.company.ids
        )

    def _feedback(self, partner, received="2026-07-01 08:00:00", **vals):
        return self.Feedback.sudo().create(
            {
                "name": "Giao hàng trễ",
                "partner_id": partner.id,
                "date_received": received,
                **vals,
            }
        )


@tagged("post_install", "-at_install")
class TestFeedback(FeedbackCommon):
    def test_tiers_of_the_fixture(self):
        self.assertEqual(self.vip.relationship_tier_id, self.tiers["vip"])
        self.assertEqual(self.small.relationship_tier_id, self.tiers["small"])
        self.assertFalse(self.prospect.relationship_tier_id)

    def test_deadline_per_tier(self):
        received = fields.Datetime.to_datetime("2026-07-01 08:00:00")
        vip = self._feedback(self.vip)
        small = self._feedback(self.small)
        prospect = self._feedback(self.prospect)
        self.assertEqual(
            vip.date_deadline, fields.Datetime.to_datetime("2026-07-01 12:00:00")
        )
        self.assertEqual(
            small.date_deadline, fields.Datetime.to_datetime("2026-07-03 08:00:00")
        )
        self.assertEqual(
            prospect.date_deadline, fields.Datetime.to_datetime("2026-07-04 08:00:00")
        )
        # the tier's service standard is configurable
        self.tiers["small"].response_hours = 24
        later = self._feedback(self.small)
        self.assertEqual(
            later.date_deadline, fields.Datetime.to_datetime("2026-07-02 08:00:00")
        )
        # an edited deadline stays; the received date moves the computed one
        small.date_deadline = "2026-07-10 08:00:00"
        self.assertEqual(
            small.date_deadline, fields.Datetime.to_datetime("2026-07-10 08:00:00")
        )
        vip.date_received = "2026-07-02 08:00:00"
        self.assertEqual(vip.date_deadline, received.replace(day=2, hour=12))

    def test_contact_is_redirected_to_its_company(self):
        feedback = self._feedback(self.vip_contact)
        self.assertEqual(feedback.partner_id, self.vip)
        self.assertEqual(feedback.contact_id, self.vip_contact)
        self.assertEqual(
            feedback.date_deadline, fields.Datetime.to_datetime("2026-07-01 12:00:00")
        )
        feedback.partner_id = self.small
        self.assertEqual(feedback.partner_id, self.small)
        self.assertFalse(feedback.contact_id)
        feedback.partner_id = self.vip_contact
        self.assertEqual(feedback.partner_id, self.vip)
        self.assertEqual(feedback.contact_id, self.vip_contact)

    def test_sla_breach(self):
        with freeze_time("2026-07-01 10:00:00"):
            on_time = self._feedback(self.vip)
            late = self._feedback(self.vip)
            left_open = self._feedback(self.vip)
            self.assertFalse(left_open.sla_breached)
        with freeze_time("2026-07-01 11:00:00"):
            on_time.stage_id = self.stage_resolved
        with freeze_time("2026-07-01 13:00:00"):
            late.stage_id = self.stage_resolved
            self.assertEqual(self.Feedback._cron_flag_sla_breaches(), 1)
        self.assertEqual(
            on_time.date_resolved, fields.Datetime.to_datetime("2026-07-01 11:00:00")
        )
        self.assertEqual(
            late.date_resolved, fields.Datetime.to_datetime("2026-07-01 13:00:00")
        )
        self.assertAlmostEqual(late.resolution_hours, 5.0)
        self.assertFalse(on_time.sla_breached)
        self.assertTrue(late.sla_breached)
        self.assertTrue(left_open.sla_breached)
        feedbacks = on_time | late | left_open
        self.assertEqual(
            self.Feedback.search(
                [("id", "in", feedbacks.ids), ("sla_breached", "=", True)]
            ),
            late | left_open,
        )
        # Closed keeps the resolved date; reopening clears it
        with freeze_time("2026-07-02 09:00:00"):
            on_time.stage_id = self.stage_closed
            self.assertEqual(
                on_time.date_resolved,
                fields.Datetime.to_datetime("2026-07-01 11:00:00"),
            )
            late.stage_id = self.stage_progress
            self.assertFalse(late.date_resolved)
            self.assertTrue(late.sla_breached)
            # a later deadline set by hand lifts the flag of an open feedback
            late.date_deadline = "2026-07-03 08:00:00"
            self.assertFalse(late.sla_breached)

    def test_bad_dates_and_scores(self):
        feedback = self._feedback(self.vip)
        with (
            self.assertRaisesRegex(ValidationError, "resolved before it was received"),
            self.cr.savepoint(),
        ):
            feedback.write(
                {
                    "stage_id": self.stage_resolved.id,
                    "date_resolved": "2026-06-30 08:00:00",
                }
            )
        for values, message in (
            ({"csat_score": 6}, "satisfaction score goes from 1 to 5"),
            ({"csat_score": -1}, "satisfaction score goes from 1 to 5"),
            ({"nps_score": 11}, "recommendation score goes from 0 to 10"),
            ({"nps_score": -1}, "recommendation score goes from 0 to 10"),
        ):
            with (
                self.subTest(values=values),
                self.assertRaisesRegex(ValidationError, message),
                self.cr.savepoint(),
            ):
                feedback.write(values)
        # the database refuses them too, whoever writes
        feedback.flush_recordset()
        for column, value in (("csat_score", 9), ("nps_score", 42)):
            with (
                self.subTest(column=column),
                mute_logger("odoo.sql_db"),
                self.assertRaises(psycopg2.errors.CheckViolation),
                self.cr.savepoint(),
            ):
                self.cr.execute(
                    f"UPDATE crm_relationship_feedback SET {column} = %s WHERE id = %s",
                    (value, feedback.id),
                )

    def test_nps_zero_is_an_answer(self):
        feedback = self._feedback(self.vip, nps_score=0, nps_answered=True)
        self.assertEqual(feedback.nps_category, "detractor")
        unanswered = self._feedback(self.vip)
        self.assertFalse(unanswered.nps_answered)
        self.assertFalse(unanswered.nps_category)
        unanswered.nps_score = 9
        self.assertTrue(unanswered.nps_answered)
        self.assertEqual(unanswered.nps_category, "promoter")

    def test_survey_sent_on_resolution(self):
        feedback = self._feedback(self.vip_contact)
        feedback.stage_id = self.stage_progress
        self.assertFalse(feedback.survey_sent_date)
        feedback.stage_id = self.stage_resolved
        self.assertTrue(feedback.survey_sent_date)
        self.assertTrue(feedback.access_token)
        survey = feedback.message_ids.filtered(
            lambda m: m.subject and "How did we do" in m.subject
        )
        self.assertEqual(len(survey), 1)
        self.assertEqual(survey.partner_ids, self.vip_contact)
        self.assertIn(
            f"/crm_relationship/feedback/{feedback.id}/survey?access_token={feedback.access_token}",
            str(survey.body),
        )
        # Resolved then Closed: asked once
        feedback.stage_id = self.stage_closed
        self.assertEqual(
            len(
                feedback.message_ids.filtered(
                    lambda m: m.subject and "How did we do" in m.subject
                )
            ),
            1,
        )

    def test_survey_not_sent_without_email(self):
        nobody = self._customer("Không Email")
        feedback = self._feedback(nobody)
        feedback.stage_id = self.stage_resolved
        self.assertFalse(feedback.survey_sent_date)
        with self.assertRaisesRegex(UserError, "no email address"):
            feedback.action_send_survey()

    def test_survey_answer_stored_once(self):
        feedback = self._feedback(self.vip_contact, stage_id=self.stage_resolved.id)
        with self.assertRaisesRegex(
            ValidationError, "recommendation score goes from 0 to 10"
        ):
            feedback._apply_survey_answer(11, 4, "Hmm")
        with self.assertRaisesRegex(
            ValidationError, "satisfaction score goes from 1 to 5"
        ):
            feedback._apply_survey_answer(8, 0, "Hmm")
        self.assertFalse(feedback.survey_answered_date)
        self.assertFalse(feedback.csat_score)
        with freeze_time("2026-07-02 09:00:00"):
            feedback.sudo()._apply_survey_answer(0, 4, "Rất tốt\nCảm ơn")
        self.assertEqual(
            (feedback.nps_score, feedback.nps_answered, feedback.csat_score),
            (0, True, 4),
        )
        self.assertEqual(feedback.nps_category, "detractor")
        self.assertEqual(feedback.survey_comment, "Rất tốt\nCảm ơn")
        self.assertEqual(
            feedback.survey_answered_date,
            fields.Datetime.to_datetime("2026-07-02 09:00:00"),
        )
        answer = feedback.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(answer.author_id, self.vip_contact)
        self.assertIn("0 / 10", str(answer.body))
        self.assertIn("Rất tốt", str(answer.body))
        with self.assertRaisesRegex(UserError, "already been answered"):
            feedback.sudo()._apply_survey_answer(10, 5, "again")
        self.assertEqual(feedback.csat_score, 4)
        with self.assertRaisesRegex(UserError, "already answered"):
            feedback.action_send_survey()

    def test_incoming_email_creates_feedback(self):
        message = INCOMING_EMAIL.format(
            email_from="lan@example.com",
            from_name="Chị Lan",
            subject="Hàng bị vỡ khi giao",
            msg_id="feedback-1",
            body="Hai cái ghế bị vỡ.",
        )
        feedback_id = self.env["mail.thread"].message_process(
            "crm.relationship.feedback", message
        )
        feedback = self.Feedback.browse(feedback_id)
        self.assertEqual(feedback.name, "Hàng bị vỡ khi giao")
        self.assertEqual(feedback.partner_id, self.vip)
        self.assertEqual(feedback.contact_id, self.vip_contact)
        self.assertEqual(feedback.feedback_type, "complaint")
        self.assertEqual(
            feedback.channel_id,
            self.env.ref("crm_relationship.crm_relationship_channel_email"),
        )
        self.assertEqual(feedback.stage_id, self.stage_new)
        self.assertFalse(feedback.user_id)
        self.assertIn("Hai cái ghế bị vỡ", str(feedback.description))
        # unknown sender: a customer is created from the address
        message = INCOMING_EMAIL.format(
            email_from="stranger@example.org",
            from_name="Người Lạ",
            subject="Câu hỏi",
            msg_id="feedback-2",
            body="Giờ mở cửa?",
        )
        stranger = self.Feedback.browse(
            self.env["mail.thread"].message_process(
                "crm.relationship.feedback", message
            )
        )
        self.assertEqual(stranger.partner_id.email, "stranger@example.org")

    def test_email_to_the_alias_creates_feedback(self):
        alias = self.env.ref("crm_relationship.mail_alias_crm_relationship_feedback")
        alias.alias_domain_id = self.env["mail.alias.domain"].create(
            {"name": "example.com"}
        )
        self.assertEqual(alias.alias_full_name, "feedback@example.com")
        message = INCOMING_EMAIL.format(
            email_from="small@example.com",
            from_name="Cửa hàng Nhỏ",
            subject="Thiếu hàng",
            msg_id="feedback-alias-1",
            body="Thiếu 2 thùng.",
        )
        self.env["mail.thread"].message_process(None, message)
        feedback = self.Feedback.search([("name", "=", "Thiếu hàng")])
        self.assertEqual(feedback.partner_id, self.small)
        self.assertEqual(feedback.feedback_type, "complaint")

    def test_alias_setting(self):
        alias = self.env.ref("crm_relationship.mail_alias_crm_relationship_feedback")
        self.assertEqual(alias.alias_model_id.model, "crm.relationship.feedback")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.relationship_feedback_alias_prefix, "feedback")
        settings.relationship_feedback_alias_prefix = "gopy"
        settings.execute()
        self.assertEqual(alias.alias_name, "gopy")

    def test_overdue_complaint_means_needs_care(self):
        self._recompute(self.vip)
        self.assertEqual(self.vip.relationship_status, "new")
        # not a complaint, or received after the as-of date, or not yet due
        self._feedback(
            self.vip, received="2026-06-01 08:00:00", feedback_type="suggestion"
        )
        self._feedback(self.vip, received="2026-07-05 08:00:00")
        not_due = self._feedback(
            self.vip,
            received="2026-06-30 08:00:00",
            date_deadline="2026-07-01 08:00:00",
        )
        self._recompute(self.vip)
        self.assertEqual(self.vip.relationship_status, "new")
        # open complaint past its deadline on the as-of date (here, of a contact)
        complaint = self._feedback(self.vip_contact, received="2026-06-28 08:00:00")
        self.assertEqual(
            self.env["crm.relationship.facts"]._overdue_complaint_partner_ids(
                self.company, self.as_of
            ),
            {self.vip.id},
        )
        self._recompute(self.vip)
        self.assertEqual(self.vip.relationship_status, "needs_care")
        self.assertEqual(self.vip_contact.relationship_status, "needs_care")
        self.assertEqual(
            self.vip.relationship_status_reason,
            "A complaint is open past its deadline.",
        )
        # resolved (after the as-of date): still open on that date, a back-fill sees it
        complaint.write(
            {"stage_id": self.stage_resolved.id, "date_resolved": "2026-07-02 08:00:00"}
        )
        self._recompute(self.vip)
        self.assertEqual(self.vip.relationship_status, "needs_care")
        complaint.date_resolved = "2026-06-30 09:00:00"
        self._recompute(self.vip)
        self.assertEqual(self.vip.relationship_status, "new")
        # another company's complaint does not count here
        not_due.unlink()
        other_company = self.env["res.company"].create({"name": "Chi nhánh Huế"})
        self._feedback(
            self.vip.sudo(),
            received="2026-06-01 08:00:00",
            company_id=other_company.id,
            user_id=False,
        )
        self._recompute(self.vip)
        self.assertEqual(self.vip.relationship_status, "new")

    def test_partner_counts(self):
        self._feedback(self.vip, feedback_type="complaint")
        self._feedback(
            self.vip_contact, feedback_type="complaint", stage_id=self.stage_closed.id
        )
        self._feedback(
            self.vip,
            feedback_type="praise",
            csat_score=5,
            nps_score=10,
            received="2026-06-01 08:00:00",
        )
        self._feedback(
            self.vip,
            feedback_type="suggestion",
            csat_score=2,
            nps_score=0,
            nps_answered=True,
            received="2026-06-20 08:00:00",
        )
        self._feedback(self.small, feedback_type="complaint", csat_score=3)
        partners = self.vip | self.vip_contact | self.small | self.prospect
        partners.mapped("relationship_feedback_count")  # warm the rule caches
        partners.invalidate_recordset()
        with self.assertQueryCount(2):  # commercial partners, one grouped read
            partners.mapped("relationship_feedback_count")
        self.assertEqual(partners.mapped("relationship_feedback_count"), [4, 4, 1, 0])
        self.assertEqual(
            partners.mapped("relationship_open_complaint_count"), [1, 1, 1, 0]
        )
        self.assertEqual(
            partners.mapped("relationship_csat_average"), [3.5, 3.5, 3.0, 0.0]
        )
        # the latest received answer is a real 0
        self.assertEqual(self.vip.relationship_last_nps, 0)
        self.assertTrue(self.vip.relationship_has_nps)
        self.assertFalse(self.small.relationship_has_nps)
        action = self.vip_contact.action_view_relationship_feedback()
        self.assertEqual(
            self.Feedback.search(action["domain"]),
            self.Feedback.search([("partner_id", "=", self.vip.id)]),
        )

    def test_relationship_user_access(self):
        user_env = self.Feedback.with_user(self.relationship_user)
        feedback = user_env.create(
            {
                "name": "Phàn nàn",
                "partner_id": self.vip.id,
                "date_received": "2026-07-01 08:00:00",
            }
        )
        self.assertEqual(feedback.company_id, self.company)
        self.assertEqual(feedback.user_id, self.relationship_user)
        self.assertEqual(
            feedback.date_deadline, fields.Datetime.to_datetime("2026-07-01 12:00:00")
        )
        feedback.write({"stage_id": self.stage_progress.id, "priority": "2"})
        # resolving emails the survey, with the user's rights
        feedback.stage_id = self.stage_resolved
        self.assertTrue(feedback.survey_sent_date)
        self.assertTrue(feedback.sudo().access_token)
        self.assertEqual(
            self.vip.with_user(self.relationship_user).relationship_feedback_count, 1
        )
        with self.assertRaises(AccessError):
            feedback.unlink()
        with self.assertRaises(AccessError):
            self.stage_new.with_user(self.relationship_user).name = "Mới"
        # another company's feedback is out of reach
        other_company = self.env["res.company"].create({"name": "Chi nhánh Huế"})
        foreign = self._feedback(self.vip, company_id=other_company.id, user_id=False)
        self.assertFalse(user_env.search([("id", "=", foreign.id)]))
        with self.assertRaises(AccessError):
            foreign.with_user(self.relationship_user).read(["name"])
        # a manager may delete
        feedback.with_user(self.relationship_manager).unlink()
        # an internal user outside the relationship groups sees no feedback
        plain = new_test_user(
            self.env,
            login="plain_user",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.Feedback.with_user(plain).search([])

    def test_public_and_portal_cannot_read(self):
        feedback = self._feedback(self.vip)
        feedback._portal_ensure_token()
        public = self.env.ref("base.public_user")
        portal = new_test_user(self.env, login="portal_lan", groups="base.group_portal")
        for label, user in (("public", public), ("portal", portal)):
            with self.subTest(user=label):
                with self.assertRaises(AccessError):
                    self.Feedback.with_user(user).search([])
                with self.assertRaises(AccessError):
                    feedback.with_user(user).read(["name", "access_token"])
