import random
import re
from collections import Counter
from urllib.parse import urlencode

from odoo.tests import HttpCase, tagged
from odoo.tools import SQL, mute_logger

from ..controllers.main import COMMENT_MAX_LENGTH
from . import survey_fuzz


@tagged("post_install", "-at_install")
class TestFeedbackSurveyPage(HttpCase):
    """The public survey page, through the running test server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Công ty Phản Hồi", "is_company": True, "email": "ph@example.com"}
        )
        cls.feedback = cls.env["crm.relationship.feedback"].create(
            {
                "name": "Hóa đơn sai chiết khấu",
                "partner_id": cls.customer.id,
                "date_received": "2026-07-01 08:00:00",
            }
        )
        cls.feedback.stage_id = cls.env.ref(
            "crm_relationship.crm_relationship_feedback_stage_resolved"
        )
        cls.token = cls.feedback.access_token
        cls.path = f"/crm_relationship/feedback/{cls.feedback.id}/survey"

    def setUp(self):
        super().setUp()
        self.authenticate(None, None)  # a public visitor's session

    def _url(self, token=None, feedback_id=None):
        path = f"/crm_relationship/feedback/{feedback_id or self.feedback.id}/survey"
        return f"{path}?access_token={token}" if token else path

    def _csrf(self, response):
        return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)

    def _post(self, csrf, **answer):
        return self.url_open(
            self._url(self.token),
            data={"csrf_token": csrf, **answer},
            allow_redirects=False,
        )

    def test_token_is_required(self):
        self.assertTrue(self.token)
        page = self.url_open(self._url(self.token))
        self.assertEqual(page.status_code, 200)
        self.assertIn("Hóa đơn sai chiết khấu", page.text)
        self.assertIn('name="nps_score"', page.text)
        other = self.env["crm.relationship.feedback"].create(
            {"name": "Bí mật khác", "partner_id": self.customer.id}
        )
        other._portal_ensure_token()
        for url in (
            self._url("wrong-token"),
            self._url(),
            self._url(self.token[:-1]),
            self._url(other.access_token),  # another feedback's token
            self._url(self.token, feedback_id=other.id),
            self._url(self.token, feedback_id=other.id + 1000),  # no such feedback
        ):
            with self.subTest(url=url):
                response = self.url_open(url)
                self.assertEqual(response.status_code, 404)
                self.assertNotIn("Hóa đơn sai chiết khấu", response.text)
                self.assertNotIn("Bí mật khác", response.text)
        # the POST is guarded the same way
        response = self.url_open(
            self._url("wrong-token"),
            data={"csrf_token": self._csrf(page), "nps_score": 9, "csat_score": 5},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.feedback.survey_answered_date)

    def test_answer_saved_once(self):
        csrf = self._csrf(self.url_open(self._url(self.token)))
        # out of range: refused, nothing saved
        response = self._post(csrf, nps_score=11, csat_score=5, comment="?")
        self.assertEqual(response.status_code, 400)
        self.assertIn("recommendation score goes from 0 to 10", response.text)
        response = self._post(csrf, nps_score=8, comment="no satisfaction")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Please choose", response.text)
        self.feedback.invalidate_recordset()
        self.assertFalse(self.feedback.survey_answered_date)
        # valid answer
        response = self._post(csrf, nps_score=9, csat_score=4, comment="Xử lý nhanh")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Thank you for your answer", response.text)
        self.feedback.invalidate_recordset()
        self.assertEqual((self.feedback.nps_score, self.feedback.csat_score), (9, 4))
        self.assertEqual(self.feedback.survey_comment, "Xử lý nhanh")
        self.assertEqual(self.feedback.nps_category, "promoter")
        self.assertTrue(self.feedback.survey_answered_date)
        answer = self.feedback.message_ids.filtered(
            lambda m: m.message_type == "comment"
        )
        self.assertEqual(answer.author_id, self.customer)
        self.assertIn("9 / 10", str(answer.body))
        # replay: refused, the first answer stays
        response = self._post(csrf, nps_score=0, csat_score=1, comment="changed")
        self.assertEqual(response.status_code, 409)
        self.assertIn("already been answered", response.text)
        page = self.url_open(self._url(self.token))
        self.assertEqual(page.status_code, 200)
        self.assertIn("already been answered", page.text)
        self.assertNotIn('name="nps_score"', page.text)
        self.feedback.invalidate_recordset()
        self.assertEqual((self.feedback.nps_score, self.feedback.csat_score), (9, 4))

    @mute_logger("odoo.http")
    def test_post_needs_csrf(self):
        response = self.url_open(
            self._url(self.token), data={"nps_score": 9, "csat_score": 5}
        )
        self.assertEqual(response.status_code, 400)
        self.feedback.invalidate_recordset()
        self.assertFalse(self.feedback.survey_answered_date)

    def test_survey_tour(self):
        self.start_tour(self._url(self.token), "crm_relationship_feedback_survey_tour")
        self.feedback.invalidate_recordset()
        self.assertEqual((self.feedback.nps_score, self.feedback.csat_score), (9, 4))
        self.assertEqual(self.feedback.survey_comment, "Nhân viên rất nhiệt tình")


@tagged("post_install", "-at_install")
class TestFeedbackSurveyFuzz(HttpCase):
    """Seeded random requests to the public survey page: bad and foreign
    tokens, unknown ids, missing, garbage, out-of-range, negative, float and
    huge scores, recommendations of 0, replays, NUL characters, files where
    text is expected, comments at, over and far over the limit (1 MB), with
    and without the CSRF token. ``tests/survey_fuzz.py`` says what each must
    get; ``scripts/fuzz_survey.py`` sends 10,000 of them to a served
    database, with concurrent answers to the same feedback."""

    SEED = 18
    FEEDBACK_COUNT = 60
    REQUEST_COUNT = 400

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create(
            {"name": "Công ty Khảo Sát Ngẫu Nhiên", "is_company": True}
        )
        cls.feedbacks = cls.env["crm.relationship.feedback"].create(
            [
                {"name": f"Phản hồi {i}", "partner_id": cls.customer.id}
                for i in range(cls.FEEDBACK_COUNT)
            ]
        )
        for feedback in cls.feedbacks:
            feedback._portal_ensure_token()

    def _send(self, request, csrf_token):
        url = self.base_url() + request.path
        if request.query:
            url += "?" + urlencode(request.query)
        if request.method == "GET":
            return self.opener.get(url, timeout=60, allow_redirects=False)
        return self.opener.post(
            url,
            data=request.form(csrf_token),
            files=request.files or None,
            timeout=60,
            allow_redirects=False,
        )

    @mute_logger("odoo.http")
    def test_random_requests_never_fail_nor_answer_twice(self):
        self.assertEqual(survey_fuzz.COMMENT_MAX_LENGTH, COMMENT_MAX_LENGTH)
        self.authenticate(None, None)  # a public visitor's session
        first = self.feedbacks[0]
        page = self.url_open(
            f"{survey_fuzz.PATH.format(first.id)}?access_token={first.access_token}"
        )
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        known = [survey_fuzz.Feedback(f.id, f.access_token) for f in self.feedbacks]
        requests = survey_fuzz.requests_for(
            random.Random(self.SEED),
            known,
            unknown_id=max(self.feedbacks.ids) + 1000,
            count=self.REQUEST_COUNT,
        )
        statuses, wrong = Counter(), []
        for request in requests:
            status = self._send(request, csrf).status_code
            statuses[status] += 1
            if status != request.expected:
                wrong.append(f"{status} for {request.expected}: {request.describe()}")
        self.assertNotIn(500, statuses)
        self.assertFalse(wrong, "\n".join(wrong[:10]))
        # the seed covers every answer the page gives, and answers of 0
        self.assertEqual(set(statuses), {200, 400, 404, 409}, statuses)
        self.assertTrue(any(f.answer and f.answer[0] == 0 for f in known))

        # what is stored: the first accepted answer, once, and 0 as 0
        self.env.invalidate_all()
        rows = self.env.execute_query(
            SQL(
                """SELECT id, nps_score, csat_score, survey_comment,
                          survey_answered_date IS NOT NULL
                     FROM crm_relationship_feedback WHERE id = ANY(%s)""",
                self.feedbacks.ids,
            )
        )
        answers = {f.id: f.answer for f in known}
        for feedback_id, nps, csat, comment, answered in rows:
            with self.subTest(feedback=feedback_id):
                expected = answers[feedback_id]
                self.assertEqual(answered, expected is not None)
                if answered:
                    self.assertIsNotNone(nps, "an answered recommendation is stored")
                    self.assertEqual((nps, csat, comment), expected)
        messages = dict(
            self.env.execute_query(
                SQL(
                    """SELECT res_id, COUNT(*) FROM mail_message
                        WHERE model = 'crm.relationship.feedback'
                          AND res_id = ANY(%s) AND author_id = %s
                     GROUP BY res_id""",
                    self.feedbacks.ids,
                    self.customer.id,
                )
            )
        )
        self.assertEqual(
            messages,
            {fid: 1 for fid, answer in answers.items() if answer is not None},
            "one answer in the chatter of each answered feedback, none elsewhere",
        )


@tagged("post_install", "-at_install")
class TestFeedbackBackendTour(HttpCase):
    def test_feedback_backend_tour(self):
        customer = self.env["res.partner"].create(
            {"name": "Công ty Tour", "is_company": True, "email": "tour@example.com"}
        )
        self.env["crm.relationship.feedback"].create(
            {
                "name": "Tour overdue complaint",
                "partner_id": customer.id,
                "date_received": "2026-01-05 08:00:00",
                "user_id": self.env.ref("base.user_admin").id,
            }
        )
        self.start_tour(
            "/odoo/action-crm_relationship.crm_relationship_feedback_action",
            "crm_relationship_feedback_backend_tour",
            login="admin",
        )
        feedback = self.env["crm.relationship.feedback"].search(
            [("name", "=", "Giá cao hơn báo giá")]
        )
        self.assertEqual(feedback.partner_id, customer)
        self.assertTrue(feedback.is_closed)
        self.assertTrue(feedback.survey_sent_date)
