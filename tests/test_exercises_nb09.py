"""Notebook 09's checks: the right answers pass, a stub gives "No answer yet", and each wrong
answer a student would give is rejected with the hint that names that mistake."""

from __future__ import annotations

import json

import pytest

from wsteach.exercises import nb09
from wsteach.exercises.checking import NotYet
from wsteach.socketio import packets

MESSAGE = '42/chat,13["join","room 1"]'
RIGHT = (4, 2, "/chat", 13, "join", ["room 1"])


def stub_function(message, values):
    raise NotImplementedError


@pytest.mark.parametrize("stub", [..., None])
def test_stubs_say_no_answer_yet(stub):
    for check in (lambda: nb09.check_decoded(MESSAGE, stub), lambda: nb09.check_ack_reply(stub),
                  lambda: nb09.check_room_prediction(stub, {"a to r": set()})):
        with pytest.raises(NotYet, match="No answer yet"):
            check()


def test_a_function_stub_raising_not_implemented_says_no_answer_yet():
    with pytest.raises(NotYet, match="No answer yet"):
        nb09.check_ack_reply(stub_function)


def test_right_answers_pass(capsys):
    nb09.check_decoded(MESSAGE, RIGHT)
    nb09.check_decoded(MESSAGE, (4, 2, "/chat", 13, "join", ("room 1",)))
    nb09.check_decoded('4213["join","room 1"]', (4, 2, "/", 13, "join", ["room 1"]))

    def ack_reply(message, values):
        event = packets.decode(message[1:])
        if event.id is None:
            return None
        return "4" + packets.encode(packets.Packet(packets.PacketType.ACK, values,
                                                   event.namespace, event.id))

    nb09.check_ack_reply(ack_reply)
    measured = {"ann to red": {"ben"}, "ann to red again": set()}
    nb09.check_room_prediction({"ann to red": ["ben"], "ann to red again": set()}, measured)
    nb09.check_room_prediction({"ann to red": {"ben"}, "ann to red again": {}}, measured)
    assert capsys.readouterr().out.count("✔") == 6


@pytest.mark.parametrize(("answer", "hint"), [
    ((4, 4, "/chat", 13, "join", ["room 1"]), "Engine.IO's digit again"),
    (("message", 2, "/chat", 13, "join", ["room 1"]), "Engine.IO's type"),
    ((2, 4, "/chat", 13, "join", ["room 1"]), "Engine.IO's type"),
    (("4", 2, "/chat", 13, "join", ["room 1"]), "engineio_type is a number"),
    ((4, "2", "/chat", 13, "join", ["room 1"]), "socketio_type is a number"),
    ((4, 2, None, 13, "join", ["room 1"]), 'main namespace, "/"'),
    ((4, 2, "", 13, "join", ["room 1"]), 'main namespace, "/"'),
    ((4, 2, "/", 13, "join", ["room 1"]), "starts a namespace, up to the comma"),
    ((4, 2, "/chat,", 13, "join", ["room 1"]), "comma ends the namespace"),
    ((4, 2, "chat", 13, "join", ["room 1"]), "starts with its /"),
    ((4, 2, "/chat13", 13, "join", ["room 1"]), "The namespace is '/chat'"),
    ((4, 2, "/chat", 213, "join", ["room 1"]), "still holds a type digit"),
    ((4, 2, "/chat", "13", "join", ["room 1"]), "a number"),
    ((4, 2, "/chat", None, "join", ["room 1"]), "ack id: 13"),
    ((4, 2, "/chat", 1, "join", ["room 1"]), "ack id: 13"),
    ((4, 2, "/chat", 13, "room 1", ["join"]), "first element"),
    ((4, 2, "/chat", 13, "join", "room 1"), "as a list"),
    ((4, 2, "/chat", 13, "join", ["join", "room 1"]), "after the name"),
    ([4, 2, "/chat", 13, "join", ["room 1"]], "tuple of six"),
])
def test_wrong_decodings(answer, hint):
    with pytest.raises(NotYet, match=hint):
        nb09.check_decoded(MESSAGE, answer)


@pytest.mark.parametrize(("answer", "hint"), [
    ((4, 2, "/", 4213, "join", ["room 1"]), "still holds a type digit"),
    ((4, 2, "/", 13, "join", ["room 1"]), None),
])
def test_decoding_in_the_main_namespace(answer, hint):
    if hint is None:
        nb09.check_decoded('4213["join","room 1"]', answer)
    else:
        with pytest.raises(NotYet, match=hint):
            nb09.check_decoded('4213["join","room 1"]', answer)


def reply_with(build):
    """An ack_reply built from a wrong rule, for the cases that ask for an ack."""
    def ack_reply(message, values):
        event = packets.decode(message[1:])
        return None if event.id is None else build(event, values)
    return ack_reply


def ack(event, values, **changes):
    fields = {"type": packets.PacketType.ACK, "data": values, "namespace": event.namespace,
              "id": event.id, **changes}
    return packets.encode(packets.Packet(fields["type"], fields["data"], fields["namespace"],
                                         fields["id"]))


@pytest.mark.parametrize(("ack_reply", "hint"), [
    (reply_with(lambda e, v: ack(e, v)), "lacks Engine.IO's 4"),
    (reply_with(lambda e, v: "4" + ack(e, v, type=packets.PacketType.EVENT, data=["ack", *v])),
     "is an EVENT"),
    (reply_with(lambda e, v: "4" + ack(e, v, namespace="/")), "namespace /admin"),
    (reply_with(lambda e, v: "4" + ack(e, v, id=e.id + 1)), "the event's own id"),
    (reply_with(lambda e, v: "4" + ack(e, v, id=None)), "the event's own id"),
    (reply_with(lambda e, v: "4" + ack(e, [v])), "the ACK's array itself"),
    (reply_with(lambda e, v: "4" + ack(e, v[:1])), "the handler's values were"),
    (reply_with(lambda e, v: ("4" + ack(e, v)).encode()), "a str"),
    (reply_with(lambda e, v: "2" + ack(e, v)), "Engine.IO's type comes first"),
    (reply_with(lambda e, v: "43" + str(e.id) + str(v)), "not a Socket.IO packet"),
    (lambda message, values: "4" + ack(packets.decode(message[1:]), values),
     "asks for no ack"),
    (lambda message, values: (None if not packets.decode(message[1:]).id
                              else "4" + ack(packets.decode(message[1:]), values)),
     "0 is an id too"),
    (reply_with(lambda e, v: "4" + ack(e, [e.data[0], *v])), "repeats the event's name"),
    (reply_with(lambda e, v: "43" + e.namespace + str(e.id) + str(v)), "not a Socket.IO packet"),
    # an ack id read as two digits at a fixed place: fails on the one-digit id of 427[...]
    (lambda message, values: "43" + str(int(message[2:4])) + json.dumps(values),
     r"raised ValueError.*427"),
])
def test_wrong_ack_replies(ack_reply, hint):
    with pytest.raises(NotYet, match=hint):
        nb09.check_ack_reply(ack_reply)


MEASURED = {"ann to red": {"ben"}, "cat to blue": {"ben"}, "ann to red again": set()}


@pytest.mark.parametrize(("prediction", "hint"), [
    ({"ann to red": {"ann", "ben"}, "cat to blue": {"ben"}, "ann to red again": set()},
     "the sender is skipped"),
    ({"ann to red": {"ben"}, "cat to blue": {"ben"}, "ann to red again": {"ben"}},
     "not in that room"),
    ({"ann to red": {"ben", "dan"}, "cat to blue": {"ben"}, "ann to red again": set()},
     "not in that room"),
    ({"ann to red": set(), "cat to blue": {"ben"}, "ann to red again": set()},
     "received it too"),
    ({"ann to red": {"ben"}}, "keys are"),
    ([{"ben"}, {"ben"}, set()], "keys are"),
    ({"ann to red": "ben", "cat to blue": {"ben"}, "ann to red again": set()},
     "one string; put the names in a set"),
    ({"ann to red": {"ben"}, "cat to blue": {"ben"}, "ann to red again": None},
     "set of names"),
    ({"ann to red": {"ben", "dan", "cat"}, "cat to blue": {"ben"}, "ann to red again": set()},
     "only if it joined"),
])
def test_wrong_room_predictions(prediction, hint):
    with pytest.raises(NotYet, match=hint):
        nb09.check_room_prediction(prediction, MEASURED)
