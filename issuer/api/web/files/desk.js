// Checks the issue form in the browser before it is sent, and shows each
// problem next to its field (the issuer checks everything again).
"use strict";
// A batch's progress page follows the batch until it finishes.
(function () {
  const box = document.getElementById("batch-progress");
  if (!box) return;
  const bar = document.getElementById("bar");
  const summary = document.getElementById("batch-summary");
  const downloads = document.getElementById("batch-downloads");
  async function tick() {
    let s;
    try {
      const r = await fetch(box.dataset.status, { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) { summary.textContent = "The desk does not know this batch any more."; return; }
      s = await r.json();
    } catch (e) {
      setTimeout(tick, 2000);
      return;
    }
    bar.max = Math.max(s.total, 1);
    bar.value = s.done;
    bar.textContent = s.done;
    summary.textContent = s.summary;
    box.dataset.finished = String(s.finished);
    if (s.finished) { downloads.hidden = false; return; }
    setTimeout(tick, 500);
  }
  tick();
})();

(function () {
  const form = document.getElementById("issue");
  if (!form) return;
  function check(input) {
    const err = document.getElementById("e-" + input.name);
    if (!err) return true;
    let msg = "";
    const v = input.value.trim();
    if (input.required && v === "") {
      msg = "Required.";
    } else if (v !== "" && input.pattern && !new RegExp("^(?:" + input.pattern + ")$").test(v)) {
      const hint = document.getElementById("h-" + input.name);
      msg = "Not in the expected form. " + (hint ? hint.textContent : "");
    } else if (!input.checkValidity()) {
      msg = input.validationMessage;
    }
    err.textContent = msg;
    err.hidden = msg === "";
    if (msg) input.setAttribute("aria-invalid", "true"); else input.removeAttribute("aria-invalid");
    return msg === "";
  }
  const inputs = Array.from(form.querySelectorAll("input[name]:not([type=hidden]):not([type=checkbox]), select[name]"));
  // A shown problem goes as soon as the value is right; new problems show
  // on submit only, so that nothing moves under a click.
  for (const input of inputs) {
    input.addEventListener("input", () => {
      if (input.getAttribute("aria-invalid") === "true") check(input);
    });
  }
  form.addEventListener("submit", (ev) => {
    let first = null;
    for (const input of inputs) if (!check(input) && !first) first = input;
    if (first) {
      ev.preventDefault();
      first.focus();
    }
  });
})();
