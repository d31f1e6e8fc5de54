// Checks the issue form in the browser before it is sent, and shows each
// problem next to its field (the issuer checks everything again).
"use strict";
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
