// The web group chat: sends what is typed (POST /chat/messages), shows the group's record live
// (Server-Sent Events from /chat/events). Every text goes into the page with textContent, never as markup.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const box = $("box"), list = $("messages"), statusLine = $("status");
  const HINTS = {
    member: ["帮助", "商品", "详情 A12", "下单 A12 42码 2", "团购", "+1 42码", "我的订单"],
    owner: ["帮助", "开团 A12 2:150 4:120 截止 2h", "团购", "结束 1", "推送 1m 今晚 8 点开团", "统计"],
  };
  const state = { personas: [], me: null, botName: "", shown: new Map(), lastDay: null, es: null, last: null };

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function persona(key) { return state.personas.find((p) => p.key === key); }

  // ---- who is typing ---------------------------------------------------------------------------------

  function choose(key) {
    state.me = key;
    try { localStorage.setItem("tuanbot-chat-as", key); } catch (e) { /* private mode */ }
    for (const b of $("personas").children) b.setAttribute("aria-checked", String(b.dataset.key === key));
    for (const row of list.querySelectorAll(".msg.said")) row.classList.toggle("mine", row.dataset.from === key);
    const hints = $("hints");
    hints.replaceChildren();
    for (const h of HINTS[persona(key).owner ? "owner" : "member"]) {
      const b = el("button", "", h);
      b.type = "button";
      b.addEventListener("mousedown", (e) => e.preventDefault()); // the box keeps focus
      b.addEventListener("click", () => { box.value = h; box.focus(); });
      hints.append(b);
    }
    box.focus();
  }

  function showPersonas() {
    const wrap = $("personas");
    for (const p of state.personas) {
      const b = el("button", "", p.name);
      b.type = "button";
      b.dataset.key = p.key;
      b.setAttribute("role", "radio");
      if (p.owner) b.title = "the group owner: can open group buys, close them, schedule pushes";
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => choose(p.key));
      wrap.append(b);
    }
    let saved = null;
    try { saved = localStorage.getItem("tuanbot-chat-as"); } catch (e) { /* private mode */ }
    choose(persona(saved) ? saved : state.personas[0].key);
  }

  // ---- showing messages ------------------------------------------------------------------------------

  function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }

  function bubbleRow(m) {
    const said = m.kind === "said";
    const row = el("div", "msg " + (said ? "said" : "bot " + m.kind));
    if (said && m.from === state.me) row.classList.add("mine");
    if (m.kind === "reply") row.classList.add("reply");
    row.dataset.from = m.from || "";
    const avatar = el("div", "avatar " + (said ? "p-" + (m.from || "other") : "bot"), (m.name || "?").slice(0, 1));
    const body = el("div", "body");
    const meta = el("div", "meta", m.name);
    const p = said && persona(m.from);
    if (p && p.owner && p.name !== "群主") meta.append(el("span", "role", "群主"));
    if (m.kind === "push") meta.append(el("span", "role", "群发"));
    if (m.time) {
      const t = el("time", "", m.time);
      if (m.at) t.dateTime = m.at;
      meta.append(t);
    }
    body.append(meta, el("div", "bubble", m.text));
    if (m.kind === "reply" && m.reply_to != null) {
      const asked = state.shown.get(m.reply_to);
      if (asked) body.append(el("div", "quote", "回复 " + asked.dataset.name + "：" + asked.dataset.text));
    }
    row.append(avatar, body);
    return row;
  }

  function dayMark(m) {
    if (!m.date || m.date === state.lastDay) return null;
    state.lastDay = m.date;
    const d = el("div", "day");
    d.append(el("span", "", m.date));
    return d;
  }

  function show(m) {
    if (state.shown.has(m.seq)) return;
    const stick = nearBottom() || m.from === state.me;
    if (m.client_msg_id) {
      const pending = list.querySelector(`[data-client="${CSS.escape(m.client_msg_id)}"]`);
      if (pending) pending.remove();
    }
    const row = bubbleRow(m);
    row.dataset.seq = m.seq;
    row.dataset.name = m.name || "";
    row.dataset.text = m.text.length > 40 ? m.text.slice(0, 40) + "…" : m.text;
    state.shown.set(m.seq, row);
    $("empty").hidden = true;
    // In seq order; a reply sits right under the message it answers (its seq follows it).
    const later = [...state.shown.keys()].filter((s) => s > m.seq).sort((a, b) => a - b)[0];
    if (later !== undefined) {
      list.insertBefore(row, state.shown.get(later));
    } else {
      const day = dayMark(m);
      if (day) list.append(day);
      list.append(row);
    }
    if (stick) list.scrollTop = list.scrollHeight;
  }

  // ---- sending ---------------------------------------------------------------------------------------

  async function post(text, as, clientId, row) {
    row.classList.remove("failed");
    row.querySelector(".note")?.remove();
    try {
      const r = await fetch("/chat/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ as, text, client_msg_id: clientId }),
      });
      if (!r.ok) throw new Error("HTTP " + r.status);
      const data = await r.json();
      row.remove();
      data.messages.forEach(show);
    } catch (e) {
      // Not sent (server down or restarting): the same id again acts once, however many tries.
      row.classList.add("failed");
      const note = el("div", "note", "未发送，点这里重试 · not sent, tap to retry");
      note.addEventListener("click", () => post(text, as, clientId, row));
      row.querySelector(".body").append(note);
    }
  }

  function send() {
    const text = box.value;
    if (!text.trim()) return;
    box.value = "";
    fit();
    const clientId = newId();
    const me = persona(state.me);
    const row = bubbleRow({ kind: "said", from: me.key, name: me.name, text, time: "" });
    row.classList.add("pending");
    row.dataset.client = clientId;
    $("empty").hidden = true;
    list.append(row);
    list.scrollTop = list.scrollHeight;
    box.focus();
    post(text, me.key, clientId, row);
  }

  function fit() {
    box.style.height = "auto";
    box.style.height = Math.min(box.scrollHeight + 2, 120) + "px";
  }

  // ---- live: the group's record over Server-Sent Events, reconnecting by itself ----------------------

  function setStatus(text, cls) {
    statusLine.textContent = text;
    statusLine.className = "status" + (cls ? " " + cls : "");
  }

  function connect() {
    const url = "/chat/events" + (state.last !== null ? "?after=" + state.last : "");
    const es = new EventSource(url);
    state.es = es;
    es.addEventListener("live", () => setStatus("已连接 · live", "live")); // sent once the history is in
    es.addEventListener("message", (e) => {
      const m = JSON.parse(e.data);
      state.last = Math.max(state.last ?? 0, m.seq);
      show(m);
    });
    es.onerror = () => {
      setStatus("连接已断开，正在重新连接… reconnecting…", "down");
      if (es.readyState === EventSource.CLOSED) { // the browser gave up: start again ourselves
        setTimeout(() => { if (state.es === es) connect(); }, 2000);
      }
    };
  }

  async function start() {
    let config = null;
    while (!config) {
      try {
        const r = await fetch("/chat/config");
        if (!r.ok) throw new Error("HTTP " + r.status);
        config = await r.json();
      } catch (e) {
        setStatus("连接不上服务器，正在重试… reconnecting…", "down");
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
    state.personas = config.personas;
    state.botName = config.bot_name;
    $("group-name").textContent = config.group_name;
    $("member-count").textContent = "(" + (config.personas.length + 1) + ")";
    document.title = config.group_name + " · tuanbot";
    showPersonas();
    connect();
  }

  box.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { // isComposing: Enter that picks an IME candidate
      e.preventDefault();
      send();
    }
  });
  box.addEventListener("input", fit);
  $("composer").addEventListener("submit", (e) => { e.preventDefault(); send(); });
  $("send").addEventListener("mousedown", (e) => e.preventDefault());
  start();
})();
