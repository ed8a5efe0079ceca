"""Random requests to the public survey page, and the answer each must get.

Plain Python without Odoo, shared by the seeded HttpCase of
``test_feedback_survey.py`` and by ``scripts/fuzz_survey.py`` (10,000 posts
against a served database): one definition of the cases and of the expected
answers.

The page's rules, as the oracle below applies them in this order:

- a path that is no integer (``abc``): 404, as no route matches;
- a POST without the session's CSRF token: 400 (Odoo refuses it first);
- an unknown feedback, or a token that is not exactly its own: 404, the same
  answer for both, so the page never tells whether a feedback exists;
- a feedback already answered: 409 for a POST, the "already answered" page
  (200) for a GET; the first answer stays, and the chatter has it once;
- scores that are not 1 to 3 ASCII digits (spaces around allowed), a comment
  that is a file or longer than ``COMMENT_MAX_LENGTH`` characters once its NUL
  characters are dropped, a recommendation outside 0..10 or a satisfaction
  outside 1..5: 400, nothing stored;
- otherwise 200: the answer is stored, NUL characters dropped and the comment
  stripped, a recommendation of 0 as 0.
"""

import re
import string

COMMENT_MAX_LENGTH = 10000  # controllers/main.py COMMENT_MAX_LENGTH
MEGABYTE = 1024 * 1024
SCORE = re.compile(r"[ \t\n\r\f\v]*([0-9]{1,3})[ \t\n\r\f\v]*")
PATH = "/crm_relationship/feedback/{}/survey"
ROUTABLE_ID = re.compile(r"-?[0-9]+")  # Odoo's <int:...> converter is signed

# score values that are no score, whatever the range
BAD_SCORES = [
    "",
    " ",
    "abc",
    "9.5",
    "7.0",
    "-1",
    "-0",
    "+7",
    "1e1",
    "NaN",
    "inf",
    "0x7",
    "0_7",
    "٧",  # ARABIC-INDIC DIGIT SEVEN: int() takes it, the page does not
    "７",  # FULLWIDTH DIGIT SEVEN
    "7\x00",
    "1000",
    "9" * 30,
    "9" * 5000,
    "'; DROP TABLE crm_relationship_feedback; --",
]
COMMENTS = [
    "Xử lý nhanh, nhân viên nhiệt tình",
    "<script>alert('xss')</script>",
    "<b>bold</b> &amp; <i>html</i>",
    "   ",
    "line\nbreaks\r\nand\ttabs",
    "NUL\x00inside",
    "\x00",
    "emoji 👍🏽 and RTL عربي",
    "%(nps)s %s {0} ${x}",
]


def parse_score(value):
    """The oracle's reading of a score: an int, or None for no score."""
    if not isinstance(value, str):
        return None
    match = SCORE.fullmatch(value)
    return int(match.group(1)) if match else None


class Feedback:
    """A feedback of the run as the oracle knows it."""

    def __init__(self, feedback_id, token):
        self.id = feedback_id
        self.token = token
        self.answer = None  # (nps, csat, comment) of the accepted answer

    def __repr__(self):
        return f"Feedback({self.id})"


class Request:
    """One request: what to send and, once ``expect`` ran, what must come back."""

    def __init__(self, kind, feedback, method="POST"):
        self.kind = kind  # a short label for the counts and failures
        self.feedback = feedback  # the targeted Feedback, or None (unknown id)
        self.method = method
        self.path_id = str(feedback.id) if feedback else None
        self.query = {}  # query string
        self.data = {}  # form fields
        self.files = {}  # multipart files: name -> (filename, bytes)
        self.csrf = "valid"  # valid, missing or wrong
        self.token_ok = False
        self.expected = None
        self.stored = None  # the answer the oracle expects stored, if any

    @property
    def path(self):
        return PATH.format(self.path_id)

    def form(self, csrf_token):
        """The form fields to post with the session's ``csrf_token``."""
        data = dict(self.data)
        if self.csrf == "valid":
            data["csrf_token"] = csrf_token
        elif self.csrf == "wrong":
            data["csrf_token"] = csrf_token[::-1] + "x"
        return data

    def describe(self):
        data = {
            k: (v if len(v) < 60 else f"<{len(v)} chars>") for k, v in self.data.items()
        }
        return (
            f"{self.method} {self.kind} {self.path} query={self.query} "
            f"data={data} files={list(self.files)} csrf={self.csrf}"
        )


def _score(rng, low, high, zero_weight):
    """A score field's value: mostly valid (0 often for the recommendation),
    sometimes out of range, sometimes no score at all, sometimes absent."""
    roll = rng.random()
    if roll < 0.62:
        if low == 0 and rng.random() < zero_weight:
            return "0"
        return str(rng.randint(low, high))
    if roll < 0.70:
        return rng.choice([str(high + 1), str(low - 1) if low else "11", "99", "999"])
    if roll < 0.75:
        return rng.choice([" 7 ", "\t3\n", "007", "03"])
    if roll < 0.95:
        return rng.choice(BAD_SCORES)
    return None  # not posted


def _comment(rng):
    roll = rng.random()
    if roll < 0.30:
        return None
    if roll < 0.80:
        return rng.choice(COMMENTS)
    if roll < 0.88:
        return "".join(
            rng.choice(string.printable + "ăâđêôơưáàảãạ") for _ in range(200)
        )
    if roll < 0.93:
        return "x" * COMMENT_MAX_LENGTH  # at the limit: accepted
    if roll < 0.97:
        return "y" * (COMMENT_MAX_LENGTH + 1)
    if roll < 0.985:
        return "\x00" * 5 + "z" * COMMENT_MAX_LENGTH  # at the limit once cleaned
    return "m" * MEGABYTE  # 1 MB


def _wrong_token(rng, feedback, feedbacks):
    token = feedback.token
    others = [f for f in feedbacks if f is not feedback]
    return rng.choice(
        [
            "",
            token[:-1],
            token + "x",
            token.upper() if token.upper() != token else token + "A",
            " " + token,
            token + "\x00",
            "".join(rng.choice(string.hexdigits) for _ in range(len(token))),
            rng.choice(others).token if others else "nope",
            "t" * 10000,
            "' OR '1'='1",
            "ẞ" * 8,
        ]
    )


def random_request(rng, feedbacks, unknown_id):
    """A random request to one of ``feedbacks`` (or to no feedback)."""
    roll = rng.random()
    if roll < 0.05:  # a GET, with the right token or not
        feedback = rng.choice(feedbacks)
        request = Request("get", feedback, method="GET")
        if rng.random() < 0.7:
            request.query["access_token"] = feedback.token
            request.token_ok = True
        else:
            request.kind = "get bad token"
            request.query["access_token"] = _wrong_token(rng, feedback, feedbacks)
        return request
    if roll < 0.10:  # no such feedback
        request = Request("unknown feedback", None)
        request.path_id = rng.choice(
            [
                str(unknown_id + rng.randint(0, 1000)),
                str(2**31),
                str(2**63),
                "9" * 30,
                "-5",
                "0",
                "abc",
            ]
        )
        request.query["access_token"] = rng.choice(feedbacks).token
    else:
        feedback = rng.choice(feedbacks)
        request = Request("answer", feedback)
        token_roll = rng.random()
        if token_roll < 0.72:
            request.query["access_token"] = feedback.token
            request.token_ok = True
        elif token_roll < 0.77:
            request.kind = "answer, token in the body"
            request.data["access_token"] = feedback.token
            request.token_ok = True
        elif token_roll < 0.80:
            request.kind = "no token"
        elif token_roll < 0.82:
            request.kind = "token as a file"
            request.files["access_token"] = ("token.txt", feedback.token.encode())
        else:
            request.kind = "bad token"
            request.query["access_token"] = _wrong_token(rng, feedback, feedbacks)
    nps = _score(rng, 0, 10, zero_weight=0.3)
    csat = _score(rng, 1, 5, zero_weight=0)
    comment = _comment(rng)
    for name, value in (("nps_score", nps), ("csat_score", csat)):
        if value is not None:
            request.data[name] = value
    if comment is not None:
        request.data["comment"] = comment
    file_roll = rng.random()
    if file_roll < 0.02:
        request.kind += ", score as a file"
        request.files["nps_score"] = ("nps.txt", b"9")
        request.data.pop("nps_score", None)
    elif file_roll < 0.04:
        request.kind += ", comment as a file"
        request.files["comment"] = ("comment.txt", b"hello")
        request.data.pop("comment", None)
    csrf_roll = rng.random()
    if csrf_roll < 0.03:
        request.csrf = "missing"
    elif csrf_roll < 0.06:
        request.csrf = "wrong"
    return request


def expect(request):
    """Set the status ``request`` must get, and update the oracle's state as
    the server will when it accepts the answer. Call it in sending order."""
    feedback = request.feedback
    if not ROUTABLE_ID.fullmatch(request.path_id):
        request.expected = 404  # no route: refused before the CSRF check
        return request.expected
    if request.method == "POST" and request.csrf != "valid":
        request.expected = 400
        return request.expected
    if not (feedback and request.token_ok):
        request.expected = 404
        return request.expected
    if feedback.answer is not None:
        request.expected = 200 if request.method == "GET" else 409
        return request.expected
    if request.method == "GET":
        request.expected = 200
        return request.expected
    nps = None if "nps_score" in request.files else request.data.get("nps_score")
    csat = request.data.get("csat_score")
    nps, csat = parse_score(nps), parse_score(csat)
    comment = (request.data.get("comment") or "").replace("\x00", "")
    if (
        nps is None
        or csat is None
        or "comment" in request.files
        or len(comment) > COMMENT_MAX_LENGTH
        or not 0 <= nps <= 10
        or not 1 <= csat <= 5
    ):
        request.expected = 400
        return request.expected
    feedback.answer = request.stored = (nps, csat, comment.strip() or None)
    request.expected = 200
    return request.expected


def requests_for(rng, feedbacks, unknown_id, count):
    """``count`` random requests with their expected status, in sending order."""
    result = []
    for _ in range(count):
        request = random_request(rng, feedbacks, unknown_id)
        expect(request)
        result.append(request)
    return result
