"""The Python side of the chat: ``ChatClient`` (reconnect and resume against cuts and a server
restart), ``ChatWidget`` (what it shows, escaped), and ``blocking.run_now`` (nest_asyncio2)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

from test_chat import chat_room, join, run

from wsteach.chat import protocol
from wsteach.chat.client import ChatClient, Entry, gap_notice
from wsteach.chat.widget import ChatWidget, render_entry

FAST = {"min_delay": 0.02, "max_delay": 0.1}  # reconnect within 0.1 s in these tests


def test_cut_ten_times_while_messages_flow_nothing_lost_nothing_twice():
    count, cuts = 300, 10

    async def scenario() -> None:
        async with chat_room(rate=1e9, burst=10**9, history=count) as room:
            bo = ChatClient(room.ws_url, "Bo", **FAST)
            bo.start()
            await bo.wait_for(lambda c: c.state == "open")
            ada = await join(room, "Ada")  # a websockets client that only sends
            for n in range(count):
                await ada.send(protocol.say(f"m{n}"))
                if n % (count // cuts) == count // cuts // 2:
                    await asyncio.sleep(0.005)
                    bo_side = room.members["bo"].ws
                    bo_side.transport.abort()  # the server drops TCP: no close frame
                await asyncio.sleep(0.001)
            await bo.wait_for(lambda c: len(c.texts()) >= count)
            assert bo.texts() == [f"m{n}" for n in range(count)]  # each once, in order
            assert bo.connections == cuts + 1
            assert bo.tracker.missed == 0
            await bo.close()
            ada.transport.abort()  # it never read: its closing handshake would wait for that

    run(scenario())


def test_a_server_restart_is_survived_with_nothing_lost():
    """The server restarts (1012) and keeps its history; a message said while one client is
    still away reaches it when it comes back."""

    async def scenario() -> None:
        async with chat_room() as room:
            ada = ChatClient(room.ws_url, "Ada", min_delay=0.01, max_delay=0.01)
            bo = ChatClient(room.ws_url, "Bo", min_delay=0.3, jitter=False)  # back in 0.3 s
            for client in (ada, bo):
                client.start()
                await client.wait_for(lambda c: c.state == "open")
            await ada.say("before")
            await bo.wait_for(lambda c: c.texts() == ["before"])
            await room.restart()
            await ada.wait_for(lambda c: c.connections == 2 and c.state == "open")
            assert bo.connections == 1  # still waiting to reconnect
            await ada.say("while Bo was away")
            await bo.wait_for(lambda c: len(c.texts()) == 2)
            assert bo.texts() == ["before", "while Bo was away"]
            assert any("1012" in entry.text for entry in bo.log if entry.name is None)
            await asyncio.gather(ada.close(), bo.close())

    run(scenario())


def test_the_widget_sends_shows_and_escapes():
    payload = '<img src=x onerror="alert(1)">'

    async def scenario() -> None:
        async with chat_room() as room:
            ui = ChatWidget.join(room.url, "Ada")
            await ui.client.wait_for(lambda c: c.state == "open")
            assert "open" in ui.light.value and not ui.send_button.disabled
            bo = await join(room, "Bo")
            await bo.send(protocol.say(payload))
            await ui.client.wait_for(lambda c: payload in c.texts())
            assert "<img" not in ui.log_view.value
            assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in ui.log_view.value
            assert "Bo" in ui.presence_view.value
            ui.message_box.value = "hello from the widget"
            ui.submit()
            assert ui.message_box.value == ""
            await ui.client.wait_for(lambda c: "hello from the widget" in c.texts())
            assert "hello from the widget" in ui.log_view.value
            await bo.close()
            await ui.leave()
            await asyncio.sleep(0)  # the widget redraws once per turn of the event loop
            assert "closed" in ui.light.value and ui.send_button.disabled

    run(scenario())


def test_after_a_loss_the_widget_keeps_unsent_text_and_nobody_is_shown_as_here():
    """While the light is not green, Send (or Enter) leaves the text in the box, and the
    presence list is empty rather than showing who was there before the loss."""

    async def scenario() -> None:
        async with chat_room() as room:
            ui = ChatWidget.join(room.url, "Ada", min_delay=5)  # no quick reconnect
            await ui.client.wait_for(lambda c: c.state == "open" and c.presence == ["Ada"])
            room.members["ada"].ws.transport.abort()
            await ui.client.wait_for(lambda c: c.state == "connecting")
            assert ui.client.presence == []
            ui.message_box.value = "said while away"
            ui.submit()
            assert ui.message_box.value == "said while away"
            assert "not connected" in ui.light.value
            await asyncio.sleep(0)
            assert "<li>" not in ui.presence_view.value
            await ui.leave()

    run(scenario())


def test_nobody_listening_is_said_plainly_and_retried():
    async def scenario() -> None:
        async with chat_room() as room:
            url = room.ws_url
        ada = ChatClient(url, "Ada", min_delay=0.01, max_delay=0.02)  # the room has closed
        ada.start()
        await ada.wait_for(lambda c: sum("nothing listens there" in e.text for e in c.log) >= 2)
        assert ada.state == "connecting"
        await ada.close()

    run(scenario())


def test_a_gap_of_unknown_size_is_told_as_a_restart():
    assert gap_notice(3) == "3 messages missed: the server no longer has them"
    assert "may be lost" in gap_notice(None) and "None" not in gap_notice(None)


def test_render_entry_escapes_names_and_notices_too():
    line = render_entry(Entry("<b>hi</b>", "<i>Eve</i>", 0.0, 1))
    assert "<b>hi" not in line and "&lt;i&gt;Eve&lt;/i&gt;" in line
    assert "&lt;script&gt;" in render_entry(Entry("<script>"))


def test_run_now_gives_a_result_to_a_synchronous_caller_inside_a_running_loop():
    """In a subprocess: nest_asyncio2 patches asyncio for the whole process."""
    code = textwrap.dedent("""
        import asyncio
        from wsteach.chat.blocking import run_now

        def callback():  # a plain function, called while the loop runs (a widget's on_click)
            try:
                asyncio.get_event_loop().run_until_complete(asyncio.sleep(0))
            except RuntimeError as error:
                print("without:", error)
            return run_now(asyncio.sleep(0.01, result="the result"))

        async def main():
            ticks = 0
            async def tick():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.001)
            task = asyncio.create_task(tick())
            await asyncio.sleep(0.005)
            before = ticks
            print("with:", callback())
            print("other tasks ran meanwhile:", ticks > before)
            task.cancel()

        asyncio.run(main())
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=30, check=True)
    assert result.stdout.splitlines() == [
        "without: This event loop is already running",
        "with: the result",
        "other tasks ran meanwhile: True",
    ], result.stderr
