// The chat page: the browser's WebSocket API in full view.
//
// - One WebSocket to /ws on this page's own origin (the server allows no other Origin).
// - The four events (open, message, error, close) are logged below the chat; readyState and
//   bufferedAmount are redrawn ten times a second; the last CloseEvent shows code, reason and
//   wasClean.
// - A heartbeat: JavaScript cannot send a ping frame, so the page sends {"type": "ping"} and
//   expects {"type": "pong"} within PONG_TIMEOUT_MS. The article's heartCheck, done right: one
//   timer per connection, cleared on close, and a dead connection is abandoned at once instead
//   of waiting for a close event that may take a minute to come.
// - Reconnect with exponential backoff and full jitter: a random wait up to a ceiling that
//   doubles after each failure, so a class of pages does not come back in the same instant.
// - Resume without loss: the server numbers every message; the page remembers the epoch and
//   the last number it showed, sends them when it reconnects, and drops any number it has
//   already shown (the same JSON as wsteach/aio/resume.py).
//
// Every text from the network is put on the page with textContent: a message is never HTML.
"use strict";

const params = new URLSearchParams(location.search);
const setting = (name, fallback) => Number(params.get(name)) || fallback;
const HEARTBEAT_MS = setting("heartbeat", 10000);
const PONG_TIMEOUT_MS = setting("pong_timeout", 5000);
const MIN_DELAY_MS = setting("min_delay", 1000);
const MAX_DELAY_MS = setting("max_delay", 30000);
const FACTOR = 2;
const FATAL = new Set([1008, 4000, 4001]); // flooding, replaced, name refused: do not retry
const STATES = ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]; // readyState 0 to 3
const MAX_EVENTS = 40; // lines kept in the event list

const chat = {
  ws: null, name: "", key: "", epoch: null, last: 0, attempt: 0, pings: 0,
  pingSentAt: 0, pongTimer: null, heartbeatTimer: null, here: new Set(),
};
const $ = id => document.getElementById(id);

// ---- the WebSocket ----------------------------------------------------------------------

function socketUrl() {
  const url = new URL("ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  url.search = "";
  const query = {name: chat.name, key: chat.key, code: params.get("code") || ""};
  if (chat.epoch !== null) Object.assign(query, {epoch: chat.epoch, last: chat.last});
  for (const [key, value] of Object.entries(query)) {
    if (value !== "") url.searchParams.set(key, value);
  }
  return url.href;
}

function connect() {
  const ws = new WebSocket(socketUrl());
  chat.ws = ws;
  $("url").textContent = ws.url.replace(/key=[^&]*/, "key=…");
  $("binaryType").textContent = `"${ws.binaryType}" (for binary messages; this chat sends text)`;
  light("connecting", "connecting…");
  ws.onopen = () => {
    logEvent("open", "the handshake succeeded: 101 Switching Protocols");
    $("negotiated").textContent = `"${ws.protocol}" / "${ws.extensions}"`;
    light("open", `connected as ${chat.name}`);
    startHeartbeat(ws);
  };
  ws.onmessage = event => {
    const data = event.data;
    logEvent("message", data.length > 80 ? `${data.slice(0, 80)}… (${data.length} chars)` : data);
    receive(JSON.parse(event.data));
  };
  ws.onerror = () => logEvent("error", "something failed; the API says no more, on purpose");
  ws.onclose = event => {
    logEvent("close", `code ${event.code}, reason "${event.reason}", wasClean ${event.wasClean}`);
    $("closeEvent").textContent =
      `code ${event.code} · reason "${event.reason}" · wasClean ${event.wasClean}`;
    stopHeartbeat();
    if (chat.ws === ws) lost(event.code, event.reason);
  };
}

function receive(message) {
  switch (message.type) {
    case "welcome":
      chat.name = message.name;
      chat.key = message.key;
      $("message").disabled = $("say").querySelector("button").disabled = false;
      break;
    case "hello":
      if (message.epoch !== chat.epoch) { // a history we do not know: start from its beginning
        if (chat.epoch !== null) notice("the server has a new history: its numbers start again");
        chat.epoch = message.epoch;
        chat.last = 0;
      }
      chat.attempt = 0; // a good connection: the next loss starts the backoff afresh
      break;
    case "gap": // missed is null when nobody can know: the server started a new history
      notice(message.missed === null
        ? "the server restarted: messages sent while you were away may be lost"
        : `${message.missed} messages missed: the server no longer keeps them`);
      break;
    case "message":
      if (message.seq <= chat.last) return; // seen already (a replay overlapping the live feed)
      chat.last = message.seq;
      addLine(message.seq, message.data);
      break;
    case "presence":
      chat.here = new Set(message.names);
      drawPresence();
      break;
    case "joined":
      chat.here.add(message.name);
      drawPresence();
      break;
    case "left":
      chat.here.delete(message.name);
      drawPresence();
      break;
    case "pong":
      clearTimeout(chat.pongTimer);
      $("heartbeat").textContent =
        `pong ${message.id} after ${Math.round(performance.now() - chat.pingSentAt)} ms`;
      break;
    case "error":
      notice(`refused: ${message.reason}`);
      break;
  }
  $("resume").textContent = `epoch ${chat.epoch} · last message shown ${chat.last}`;
}

// ---- heartbeat and reconnecting -------------------------------------------------------------

function startHeartbeat(ws) {
  chat.heartbeatTimer = setInterval(() => {
    chat.pingSentAt = performance.now();
    ws.send(JSON.stringify({type: "ping", id: ++chat.pings}));
    chat.pongTimer = setTimeout(() => {
      logEvent("heartbeat", `no pong within ${PONG_TIMEOUT_MS} ms: the connection is dead`);
      abandon(ws);
    }, PONG_TIMEOUT_MS);
  }, HEARTBEAT_MS);
}

function stopHeartbeat() {
  clearInterval(chat.heartbeatTimer);
  clearTimeout(chat.pongTimer);
}

function abandon(ws) {
  // A dead connection's close event can take a minute (the closing handshake times out):
  // stop listening to it, close it, and connect again now.
  ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
  stopHeartbeat();
  ws.close();
  lost(1006, "heartbeat timeout");
}

function lost(code, reason) {
  chat.ws = null;
  chat.here.clear(); // nobody is known to be here until the next presence list
  drawPresence();
  $("message").disabled = $("say").querySelector("button").disabled = true;
  if (FATAL.has(code)) {
    light("closed", `closed: ${reason || code}`);
    notice(`closed by the server: ${code} ${reason}`);
    if (code === 4001) $("join").hidden = false; // name refused: choose another
    return;
  }
  const ceiling = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * FACTOR ** chat.attempt);
  const delay = Math.random() * ceiling; // full jitter
  chat.attempt += 1;
  $("reconnect").textContent =
    `attempt ${chat.attempt} in ${Math.round(delay)} ms (random between 0 and ${ceiling} ms)`;
  light("connecting", `connection lost (${code}); reconnecting…`);
  setTimeout(connect, delay);
}

// ---- the page -----------------------------------------------------------------------------

function element(tag, text, className) {
  const node = document.createElement(tag);
  node.textContent = text; // never innerHTML: a message is text, whatever it contains
  if (className) node.className = className;
  return node;
}

function addLine(seq, data) {
  const line = element("p", "", "message");
  line.dataset.seq = seq;
  const time = new Date(data.time * 1000).toLocaleTimeString([], {hour12: false});
  line.append(element("time", time), " ", element("b", data.name), " ", element("span", data.text));
  $("log").append(line);
  line.scrollIntoView({block: "nearest"});
}

function drawPresence() {
  const names = [...chat.here].sort((a, b) => a.localeCompare(b));
  $("presence").replaceChildren(...names.map(name => element("li", name)));
}

function notice(text) {
  $("log").append(element("p", text, "notice"));
}

function logEvent(type, detail) {
  const list = $("events");
  list.prepend(element("li", `${new Date().toLocaleTimeString([], {hour12: false})} ${type}: ${detail}`));
  while (list.children.length > MAX_EVENTS) list.lastChild.remove();
}

function light(state, text) {
  $("light").className = `light ${state}`;
  $("light").textContent = text;
}

function redrawState() {
  const ws = chat.ws;
  $("readyState").textContent = ws ? `${ws.readyState} (${STATES[ws.readyState]})` : "-";
  $("bufferedAmount").textContent = ws ? `${ws.bufferedAmount} bytes not yet sent` : "-";
}

function join(name) {
  if (name.trim() !== chat.name) chat.key = ""; // a key reclaims only the name it was given for
  chat.name = name.trim();
  $("join").hidden = true;
  chat.attempt = 0;
  connect();
}

document.addEventListener("DOMContentLoaded", () => {
  $("join").addEventListener("submit", event => {
    event.preventDefault();
    join($("name").value);
  });
  $("say").addEventListener("submit", event => {
    event.preventDefault();
    const text = $("message").value;
    if (!text.trim()) return;
    if (!chat.ws || chat.ws.readyState !== WebSocket.OPEN) {
      notice("not connected: wait for the light to turn green, then send again");
      return;
    }
    chat.ws.send(JSON.stringify({type: "say", text}));
    $("message").value = "";
  });
  setInterval(redrawState, 100);
  if (params.get("name")) join(params.get("name"));
});
