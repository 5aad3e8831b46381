"""Checks for the exercises of notebook 09_socketio_and_events."""

from __future__ import annotations

import json

from wsteach.exercises.checking import NotYet, call_answer, passed, require_answer
from wsteach.socketio import packets


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_decoded(message: str, answer: object) -> None:
    """Exercise 9.1: a message read by hand as (Engine.IO type, Socket.IO type, namespace,
    ack id, event name, arguments)."""
    require_answer(answer)
    if not isinstance(answer, tuple) or len(answer) != 6:
        raise NotYet("Answer with a tuple of six: (engineio_type, socketio_type, namespace, "
                     "ack_id, event, args).")
    engineio_type, socketio_type, namespace, ack_id, event, args = answer
    packet = packets.decode(message[1:])
    for name, value in (("engineio_type", engineio_type), ("socketio_type", socketio_type)):
        if isinstance(value, str) and value.isdigit():
            raise NotYet(f"{name} is a number: {int(value)}, not the text {value!r}.")
    if engineio_type != int(message[0]):
        raise NotYet(f"The first character is Engine.IO's type: {message[0]} (message).")
    if socketio_type == int(message[0]) and socketio_type != packet.type:
        raise NotYet("That is Engine.IO's digit again. Socket.IO's type is the second "
                     "character: the Engine.IO message carries the Socket.IO packet.")
    if socketio_type != packet.type:
        raise NotYet(f"Socket.IO's type is the digit after Engine.IO's: {message[1]}.")
    if namespace is None or namespace == "":
        raise NotYet('No namespace written means the main namespace, "/".')
    if isinstance(namespace, str) and namespace != packet.namespace:
        if packet.namespace != "/" and namespace == "/":
            raise NotYet(f"A / right after the type starts a namespace, up to the comma: "
                         f"{packet.namespace!r}, not the main namespace.")
        if namespace == packet.namespace + ",":
            raise NotYet("The comma ends the namespace; it is not part of its name.")
        if "/" + namespace == packet.namespace:
            raise NotYet(f"A namespace's name starts with its /: {packet.namespace!r}.")
    if namespace != packet.namespace:
        raise NotYet(f"The namespace is {packet.namespace!r}.")
    if isinstance(ack_id, str):
        raise NotYet("The ack id is a number: int(...) the digits.")
    if (_is_int(ack_id) and packet.id is not None and ack_id != packet.id
            and str(ack_id).endswith(str(packet.id))):
        raise NotYet(f"{ack_id} still holds a type digit: the ack id is the digits after both "
                     "types, before the JSON.")
    if ack_id != packet.id:
        raise NotYet("The digits after the types (and after the namespace's comma), up to the "
                     f"JSON, are the ack id: {packet.id}." if packet.id is not None
                     else "This packet carries no ack id: None.")
    if event != packet.data[0]:
        raise NotYet("The event's name is the first element of the JSON array.")
    if not isinstance(args, list | tuple) or list(args) != packet.data[1:]:
        raise NotYet("The arguments are the rest of the array, after the name, as a list.")
    passed(f"{message}: Engine.IO message, Socket.IO {packet.type.name} {event!r} in "
           f"{packet.namespace}, ack id {packet.id}, arguments {packet.data[1:]}.")


def check_ack_reply(ack_reply: object) -> None:
    """Exercise 9.2: ``ack_reply(message, values)`` gives the Engine.IO text that answers an
    incoming event's ack id with the handler's values (or None if no ack was asked for)."""
    require_answer(ack_reply)
    cases = [('4212["echo","hi"]', ["hi"], '4312["hi"]'),
             ('427["add",1,2]', [3], '437[3]'),
             ('42/admin,5["who"]', ["me", 2], '43/admin,5["me",2]'),
             ('420["nothing"]', [], '430[]'),
             ('42["no ack"]', ["x"], None)]
    for message, values, expected in cases:
        got = call_answer(ack_reply, message, list(values))
        question = packets.decode(message[1:])
        if expected is None:
            if got is not None:
                raise NotYet(f"{message} asks for no ack (no digits before the JSON): return "
                             f"None, not {got!r}.")
            continue
        if got is None and question.id == 0:
            raise NotYet(f"{message} asks for an ack: its id is 0, and 0 is an id too. Test "
                         "`event.id is None`, not `not event.id`.")
        if not isinstance(got, str):
            raise NotYet(f"ack_reply({message!r}, {values!r}) gave {got!r}: return the text to "
                         "send, a str.")
        if got.startswith("3"):
            raise NotYet(f"{got!r} lacks Engine.IO's 4 (message) in front of Socket.IO's ACK.")
        if not got.startswith("4"):
            raise NotYet(f"{got!r}: Engine.IO's type comes first, 4 (message).")
        try:
            reply = packets.decode(got[1:])
        except packets.SocketIOError as error:
            raise NotYet(f"{got!r} is not a Socket.IO packet after its 4: {error}") from None
        if reply.type is packets.PacketType.EVENT:
            raise NotYet(f"{got!r} is an EVENT (2); the answer to an ack id is an ACK (3).")
        if reply.type is not packets.PacketType.ACK:
            raise NotYet(f"{got!r} is a {reply.type.name}; the answer is an ACK (3).")
        if reply.namespace != question.namespace:
            raise NotYet(f"{message} came in the namespace {question.namespace}; the ACK must "
                         "go back in it.")
        if reply.id != question.id:
            raise NotYet(f"The ACK must carry the event's own id, {question.id}, not {reply.id}.")
        if reply.data == [values]:
            raise NotYet(f"The values are the ACK's array itself: {json.dumps(values)}, not "
                         f"{json.dumps([values])}.")
        if reply.data == [question.data[0], *values]:
            raise NotYet(f"{got!r} repeats the event's name; an ACK carries only the values "
                         "(its id says which event it answers).")
        if reply.data != values:
            raise NotYet(f"{got!r} carries {reply.data!r}; the handler's values were {values!r}.")
    passed("Type 3, the same namespace and id, the values as the JSON array, behind a 4.")


def check_room_prediction(prediction: object, measured: dict[str, set[str]]) -> None:
    """Exercise 9.3: who received each ``said``, predicted before the cell that measures it."""
    require_answer(prediction)
    if not isinstance(prediction, dict) or set(prediction) != set(measured):
        raise NotYet(f"Answer with a dict whose keys are {sorted(measured)}, each with the set "
                     "of names that receive that message.")
    for step, names in prediction.items():
        if isinstance(names, str):
            raise NotYet(f"{step}: {names!r} is one string; put the names in a set, "
                         f"{{{names!r}}}, or write set() for nobody.")
        if not isinstance(names, set | frozenset | list | tuple | dict) or not all(
                isinstance(name, str) for name in names):
            raise NotYet(f"{step}: give a set of names, like {{'ben'}}, or set() for nobody.")
    for step, received in measured.items():
        guess = set(prediction[step])
        if guess == received:
            continue
        sender = step.split()[0]
        if sender in guess and sender not in received:
            raise NotYet(f"{step}: the sender is skipped (emit with skip=its id); it does not "
                         "hear itself.")
        if guess > received:
            raise NotYet(f"{step}: only the room's members receive it; "
                         f"{sorted(guess - received)} are not in that room (any more): a "
                         "client is in a room only if it joined, and leaves them all when it "
                         "disconnects.")
        raise NotYet(f"{step}: {sorted(received - guess)} received it too: check who joined "
                     "which room, and who left.")
    passed("Right: a room is a set on the server; the sender is skipped, and whoever "
           "disconnected has left every room.")
