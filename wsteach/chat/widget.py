"""The chat in a notebook: an ipywidgets UI on a ``ChatClient``.

```
ChatWidget.join("http://127.0.0.1:8765/", "Ada")        # the page's address, as a student
                                                       # gets it (with ?code=... in class mode)
```

The client runs in a task on the kernel's event loop, and redraws the widgets from there. The
log is an ``HTML`` widget whose value is replaced: a task must not print into an ``Output``
widget, whose capture only works while a cell runs. Everything shown is escaped with
``html.escape``, because an ``HTML`` widget renders its value as HTML in JupyterLab's own page:
an unescaped ``<img src=x onerror=...>`` would run a script there, with the power to run code
in your kernel.
"""

from __future__ import annotations

import asyncio
import html
import time
import warnings
from urllib.parse import parse_qs, urlsplit

import ipywidgets as widgets

from wsteach.chat.client import ChatClient, Entry

LIGHTS = {"connecting": "#d39a00", "open": "#1a8f3c", "closed": "#c0392b"}
SHOWN = 200  # log entries drawn; older ones stay in client.log


def render_entry(entry: Entry) -> str:
    """One log line as HTML, every piece of text escaped."""
    if entry.name is None:
        return f'<div style="color:#8a5a00"><i>{html.escape(entry.text)}</i></div>'
    clock = time.strftime("%H:%M:%S", time.localtime(entry.time or 0))
    return (f'<div><span style="color:#666">{clock}</span> <b>{html.escape(entry.name)}</b> '
            f"{html.escape(entry.text)}</div>")


def render_log(entries: list[Entry], height: str) -> str:
    """The log, newest at the bottom and scrolled to it (a reversed flex column)."""
    lines = "".join(render_entry(entry) for entry in entries[-SHOWN:])
    return (f'<div style="height:{height};overflow-y:auto;display:flex;'
            f'flex-direction:column-reverse;border:1px solid #bbb;padding:4px;line-height:1.4">'
            f"<div>{lines}</div></div>")


class ChatWidget(widgets.VBox):
    """A chat window: connection light, log, who is here, a Message box and Send (or Enter)."""

    def __init__(self, ws_url: str, name: str, *, code: str | None = None,
                 height: str = "12em", **client_options: object) -> None:
        self.height = height
        self.light = widgets.HTML()
        self.log_view = widgets.HTML()
        self.presence_view = widgets.HTML(layout=widgets.Layout(width="7em"))
        self.message_box = widgets.Text(description="Message", placeholder="type, then Enter",
                                        style={"description_width": "initial"},
                                        layout=widgets.Layout(flex="1"))
        self.send_button = widgets.Button(description="Send", button_style="primary",
                                          layout=widgets.Layout(width="5em", flex="none"))
        self.send_button.on_click(lambda _button: self.submit())
        with warnings.catch_warnings():  # deprecated for continuous_update=False, which
            warnings.simplefilter("ignore", DeprecationWarning)  # would also send on blur
            self.message_box.on_submit(lambda _text: self.submit())
        log_box = widgets.Box([self.log_view], layout=widgets.Layout(flex="1"))
        super().__init__([self.light, widgets.HBox([log_box, self.presence_view]),
                          widgets.HBox([self.message_box, self.send_button])])
        self.add_class("wsteach-chat")
        self.client = ChatClient(ws_url, name, code=code, on_change=self._redraw,
                                 **client_options)  # type: ignore[arg-type]
        self._redraw_due = False
        self._draw()
        self.client.start()

    @classmethod
    def join(cls, page_url: str, name: str, **options: object) -> ChatWidget:
        """Join the chat whose page is at ``page_url`` (``http://HOST:PORT/?code=...``)."""
        parts = urlsplit(page_url)
        code = parse_qs(parts.query).get("code", [None])[0]
        return cls(f"ws://{parts.netloc}/ws", name, code=code, **options)  # type: ignore[arg-type]

    def submit(self) -> None:
        """Send what the Message box holds (the Send button and Enter call this). While not
        connected, the text stays in the box, to be sent again once the light is green."""
        text = self.message_box.value
        if not text.strip():
            return
        if self.client.state != "open":
            self._draw()
            self.light.value += " · not connected: send again when the light is green"
            return
        self.message_box.value = ""
        sending = asyncio.ensure_future(self.client.say(text))
        sending.add_done_callback(self._sent)

    async def leave(self) -> None:
        """Leave the chat (the widgets stay, showing the last state)."""
        await self.client.close()

    def _sent(self, sending: asyncio.Future[None]) -> None:
        if not sending.cancelled() and sending.exception() is not None:  # lost meanwhile
            self.light.value += f" · not sent: {html.escape(str(sending.exception()))}"

    def _redraw(self, client: ChatClient) -> None:
        """Draw once the messages that came together are all in: a replay of a hundred
        messages is one redraw, not a hundred (each one sends the whole log to the page)."""
        if not self._redraw_due:
            self._redraw_due = True
            asyncio.get_running_loop().call_soon(self._draw)

    def _draw(self) -> None:
        self._redraw_due = False
        client = self.client
        colour = LIGHTS[client.state]
        self.light.value = (f'<span style="color:{colour}">●</span> {html.escape(client.state)}'
                            f" as <b>{html.escape(client.name)}</b>")
        self.log_view.value = render_log(client.log, self.height)
        names = "".join(f"<li>{html.escape(name)}</li>" for name in client.presence)
        self.presence_view.value = f"<b>Here now</b><ul style='padding-left:1.2em'>{names}</ul>"
        self.send_button.disabled = client.state != "open"
