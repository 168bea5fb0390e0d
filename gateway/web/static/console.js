// Live validation for the resubmit editor: posts the text (with the page's CSRF token)
// a moment after typing stops, and lists what `gateway validate` finds.
(function () {
  const editor = document.getElementById("editor");
  const live = document.getElementById("live");
  if (!editor || !live) return;
  const token = document.querySelector('input[name="csrf_token"]').value;
  let timer = null, seq = 0;

  function show(report) {
    const errors = (report.errors || []).concat(...(report.transactions || []).map(t => t.errors || []));
    live.replaceChildren();
    const head = document.createElement("p");
    head.id = "live-status";
    head.className = errors.length ? "flash error" : "flash";
    head.textContent = errors.length ? `${errors.length} problem(s):` : "Valid.";
    live.append(head);
    if (!errors.length) return;
    const list = document.createElement("ul");
    list.id = "live-findings";
    for (const e of errors) {
      const li = document.createElement("li");
      li.textContent = e.message;  // text, never HTML: it echoes what was typed
      list.append(li);
    }
    live.append(list);
  }

  async function check() {
    const mine = ++seq;
    try {
      const r = await fetch(editor.dataset.validate, {method: "POST", body: editor.value,
        headers: {"Content-Type": "text/plain", "X-CSRFToken": token}, credentials: "same-origin"});
      const report = await r.json();
      if (mine === seq) show(report);  // an older answer never overwrites a newer one
    } catch (err) {
      if (mine === seq) live.textContent = "Could not validate just now: " + err;
    }
  }

  editor.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(check, 400); });
  check();
})();
