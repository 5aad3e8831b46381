"""The checks of notebook 10 against the answers students give: each wrong answer is refused
with the hint that names its mistake, a stub gets "No answer yet", and a right answer passes."""

from __future__ import annotations

import html
import re

import pytest

from wsteach.exercises import nb10
from wsteach.exercises.checking import NotYet

NO_ANSWER = "No answer yet"


def refused(check, answer) -> str:
    with pytest.raises(NotYet) as error:
        check(answer)
    return str(error.value)


def raise_not_implemented(*args):
    raise NotImplementedError


class StubBucket:
    def __init__(self, rate, burst):
        pass

    def allow(self, now):
        ...


# ---- 10.1 ------------------------------------------------------------------------------------


def test_render_line_right_answers_pass(capsys):
    nb10.check_render_line(lambda name, text: f"<b>{html.escape(name)}</b>: {html.escape(text)}")
    nb10.check_render_line(lambda n, t: f"<b>{html.escape(n, quote=False)}</b>: "
                                        f"{html.escape(t, quote=False)}")
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize(("answer", "hint"), [
    (..., NO_ANSWER),
    (None, NO_ANSWER),
    (raise_not_implemented, NO_ANSWER),
    (lambda name, text: ..., NO_ANSWER),
    (lambda name, text: f"<b>{name}</b>: {text}", "the text became markup"),
    (lambda name, text: f"<b>{name}</b>: {html.escape(text)}", "the name is typed by a user"),
    (lambda name, text: html.escape(f"<b>{name}</b>: {text}"), "tags themselves were escaped"),
    (lambda name, text: f"<b>{html.escape(html.escape(name))}</b>: "
                        f"{html.escape(html.escape(text))}", "escaped twice"),
    (lambda name, text: "<b>" + name.replace("<", "&lt;").replace(">", "&gt;") + "</b>: "
                        + text.replace("<", "&lt;").replace(">", "&gt;"), "'&' was not escaped"),
    (lambda name, text: f"<b>{html.escape(name)}: {html.escape(text)}</b>", "Only the name"),
    (lambda name, text: f"<b>{html.escape(name)}</b> {html.escape(text)}", "<b>NAME</b>: TEXT"),
    (lambda name, text: "<b>" + re.sub("<[^>]*>", "", name) + "</b>: "
                        + re.sub("<[^>]*>", "", text), "the markup was removed"),
    (lambda name, text: [name, text], "return the HTML as a str"),
    (lambda name: name, "raised TypeError"),
    ("<b>Ada</b>: hello", "Pass the function itself"),
])
def test_render_line_wrong_answers_get_their_hint(answer, hint):
    assert hint in refused(nb10.check_render_line, answer)


# ---- 10.2 ------------------------------------------------------------------------------------


def test_allowed_origins_right_answer_passes(capsys):
    nb10.check_allowed_origins({"http://localhost:8765", "http://192.168.1.20:8765"})
    nb10.check_allowed_origins(["http://localhost:8765", "http://192.168.1.20:8765"])
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize(("answer", "hint"), [
    (..., NO_ANSWER),
    ({"*"}, "a wildcard"),
    ({"ws://192.168.1.20:8765", "ws://localhost:8765"}, "not the ws:// address"),
    ({"http://192.168.1.20:8765/", "http://localhost:8765/"}, "not even the final /"),
    ({"http://192.168.1.20:8765/ws", "http://localhost:8765"}, "with no path"),
    ({"http://192.168.1.20", "http://localhost"}, "the port is part of the origin"),
    ({"https://192.168.1.20:8765", "https://localhost:8765"}, "served over http"),
    ({"http://192.168.1.20:8765"}, "One of the chat's pages is refused"),
    ({"http://192.168.1.20:8765", "http://localhost:8765", "http://127.0.0.1:8765"},
     "'http://127.0.0.1:8765' is no page of this chat"),
    ({"192.168.1.20:8765", "localhost:8765"}, "an origin starts with its scheme"),
    ({"http://192.168.1.20:8765", "http://localhost:8765", "http://0.0.0.0:8765"},
     "0.0.0.0 is the address the server listens on"),
    ("http://192.168.1.20:8765", "Give a set of strings"),
])
def test_allowed_origins_wrong_answers_get_their_hint(answer, hint):
    assert hint in refused(nb10.check_allowed_origins, answer)


# ---- 10.3 ------------------------------------------------------------------------------------


class Bucket:
    """A right answer, written otherwise than the notebook's: it counts tokens spent. The
    wrong answers below each change one step: what comes back with time, or what passes."""

    def __init__(self, rate, burst):
        self.rate, self.burst, self.spent, self.last = rate, burst, 0.0, None

    def back(self, elapsed):
        """Tokens back after ``elapsed`` seconds."""
        return elapsed * self.rate

    def passes(self):
        return self.spent + 1 <= self.burst

    def allow(self, now):
        if self.last is not None:
            self.spent = max(0.0, self.spent - self.back(now - self.last))
        self.last = now
        if not self.passes():
            return False
        self.spent += 1
        return True


class NoRefill(Bucket):
    def back(self, elapsed):
        return 0.0


class NoCap(Bucket):
    def allow(self, now):
        if self.last is not None:
            self.spent -= self.back(now - self.last)  # may go below 0: saved-up tokens
        self.last = now
        if not self.passes():
            return False
        self.spent += 1
        return True


class WholeBurstBack(Bucket):
    def back(self, elapsed):
        return self.burst if elapsed > 0 else 0.0


class RefusedCostsAToken(Bucket):
    def allow(self, now):
        allowed = super().allow(now)
        if not allowed:
            self.spent += 1
        return allowed


class FixedBurst(Bucket):
    def __init__(self, rate, burst):
        super().__init__(rate, burst + 1)


class StartsEmpty(Bucket):
    def __init__(self, rate, burst):
        super().__init__(rate, burst)
        self.spent = float(burst)


class OneTokenIsNotEnough(Bucket):
    def passes(self):
        return self.burst - self.spent > 1  # tokens > 1: the last token is never used


class DividesByRate(Bucket):
    def back(self, elapsed):
        return elapsed / self.rate


class WholeTokensOnly(Bucket):
    def back(self, elapsed):
        return int(elapsed * self.rate)


class ReturnsTruthy(Bucket):
    def allow(self, now):
        return int(super().allow(now))


def test_token_bucket_right_answer_passes(capsys):
    nb10.check_token_bucket(Bucket)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize(("answer", "hint"), [
    (..., NO_ANSWER),
    (None, NO_ANSWER),
    (StubBucket, NO_ANSWER),
    (NoRefill, "tokens come back with time"),
    (WholeBurstBack, "not two or a whole new burst"),
    (RefusedCostsAToken, "A refused message must not take a token"),
    (NoCap, "it holds at most burst = 3 tokens"),
    (FixedBurst, "allowed 4 of 5"),
    (StartsEmpty, "It starts full"),
    (OneTokenIsNotEnough, "tokens >= 1, not > 1"),
    (DividesByRate, "not divided by rate"),
    (WholeTokensOnly, "Tokens come back in fractions"),
    (ReturnsTruthy, "should return True or False"),
    (Bucket(2, 3), "Pass the class itself"),
    (lambda: None, "Bucket(2, 3) raised TypeError"),
])
def test_token_bucket_wrong_answers_get_their_hint(answer, hint):
    assert hint in refused(nb10.check_token_bucket, answer)


# ---- 10.4 ------------------------------------------------------------------------------------


def codes(**changes: int) -> dict[str, int]:
    answer = dict(nb10.SITUATIONS)
    for key, code in changes.items():
        situation = next(s for s in nb10.SITUATIONS if key in s.replace(" ", "_"))
        answer[situation] = code
    return answer


def test_close_codes_right_answer_passes(capsys):
    nb10.check_close_codes(dict(nb10.SITUATIONS))
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize(("answer", "hint"), [
    (..., NO_ANSWER),
    ({situation: ... for situation in nb10.SITUATIONS}, NO_ANSWER),
    (codes(floods=1002), "every frame was valid"),
    (codes(too_slowly=1008), "A slow reader broke no rule"),
    (codes(floods=1013), "broke the chat's rule"),
    (codes(too_slowly=1011), "internal error"),
    (codes(restarts=1001), "1012 (service restart) tells the client"),
    (codes(for_good=1012), "1012 promises a restart"),
    (codes(for_good=1006), "1006 is never sent"),
    (codes(message=1000), "1000 is a normal close"),
    (codes(message=1007), "not 1007"),
    (codes(message=1003), "a code of its own, 1009"),
    (codes(message=1008), "a code of its own, 1009"),
    (codes(restarts=1013), "the whole service restarting is 1012"),
    (codes(too_slowly=1001), "it stays, serving everyone else"),
    (codes(floods="1008"), "give the code as a number"),
    ({}, "No code for"),
    ([1008, 1013], "Give a dict"),
])
def test_close_codes_wrong_answers_get_their_hint(answer, hint):
    assert hint in refused(nb10.check_close_codes, answer)
