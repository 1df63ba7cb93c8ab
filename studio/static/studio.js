// Small behaviours that htmx does not cover. No inline script anywhere: CSP forbids it.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  if (status >= 500) {
    const box = document.createElement("p");
    box.className = "alert alert-error";
    box.setAttribute("role", "alert");
    box.textContent = "The studio could not answer (error " + status + "). Your work is still on this page; try again.";
    document.getElementById("main").prepend(box);
  }
});

// Clicking a diagnostic's location puts the cursor on that line and column of the source.
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-jump-line]");
  if (!target) return;
  const source = document.getElementById("source");
  if (!source) return;
  const line = Number(target.dataset.jumpLine);
  const column = Number(target.dataset.jumpColumn || 1);
  const lines = source.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i += 1) offset += lines[i].length + 1;
  offset += Math.max(0, column - 1);
  source.focus();
  source.setSelectionRange(offset, offset);
  const lineHeight = parseFloat(getComputedStyle(source).lineHeight) || 20;
  source.scrollTop = Math.max(0, (line - 5) * lineHeight);
});
