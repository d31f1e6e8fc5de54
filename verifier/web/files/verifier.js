// Follows the verdict of the page's request: asks the page's own status
// route (same origin, the cookie proves the browser made the request)
// every second until the verdict is final.
"use strict";
(function () {
  const box = document.getElementById("verdict");
  if (!box) return;
  const url = box.dataset.status;
  const title = document.getElementById("verdict-title");
  const detail = document.getElementById("verdict-detail");
  const list = document.getElementById("disclosed");
  let shown = "";

  function render(s) {
    const key = JSON.stringify(s);
    if (key === shown) return;
    shown = key;
    box.className = "verdict " + s.state;
    box.dataset.state = s.state;
    if (s.code) box.dataset.code = s.code;
    title.textContent = s.title;
    detail.textContent = s.detail;
    list.replaceChildren();
    for (const d of s.disclosed || []) {
      const dt = document.createElement("dt");
      dt.textContent = d.label;
      const dd = document.createElement("dd");
      dd.textContent = d.value;
      list.append(dt, dd);
    }
    if (s.height) {
      const dt = document.createElement("dt");
      dt.textContent = "Registry block";
      const dd = document.createElement("dd");
      dd.textContent = String(s.height);
      list.append(dt, dd);
    }
    list.hidden = list.childElementCount === 0;
  }

  async function tick() {
    let s;
    try {
      const r = await fetch(url, { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) {
        render({ state: "rejected", title: "Unknown request", detail: "The verifier does not know this request any more. Ask for a new one.", final: true });
        return;
      }
      s = await r.json();
    } catch (e) {
      detail.textContent = "The verifier does not answer; trying again.";
      setTimeout(tick, 2000);
      return;
    }
    render(s);
    if (!s.final) setTimeout(tick, 1000);
  }
  tick();
})();
