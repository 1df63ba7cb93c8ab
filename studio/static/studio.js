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

// --- Never lose typed work --------------------------------------------------------------
// Forms marked data-keep-work="<kind>:<key>" keep a draft in this browser's local storage
// as the person types, warn before leaving with unsaved changes, and offer the draft back
// when the page shows something else (after a crash, a closed tab or an expired session).
const DRAFT_PREFIX = "studio-draft:";

function formFields(form) {
  const fields = {};
  for (const el of form.elements) {
    if (!el.name || el.name === "csrf_token" || el.name === "base_number" || el.name === "_keep_work" || el.disabled) continue;
    if (el.closest(".preview-pane")) continue;  // the preview's own controls are not the work
    if (el.type === "file" || el.type === "submit" || el.type === "button" || el.type === "password") continue;
    if ((el.type === "checkbox" || el.type === "radio") && !el.checked) continue;
    fields[el.name] = fields[el.name] === undefined ? el.value : fields[el.name] + "\u0000" + el.value;
  }
  return fields;
}

function sameFields(a, b) {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] || "") !== (b[k] || "")) return false;
  return true;
}

function setField(form, name, value) {
  const el = form.elements[name];
  if (!el || el.length !== undefined && !el.tagName) return;
  if (el.type === "checkbox" || el.type === "radio" || el.type === "file" || el.type === "hidden") return;
  el.value = value;
  el.dispatchEvent(new Event("code-editor:set"));
  el.dispatchEvent(new Event("input", { bubbles: true }));
}

function readDraft(key) {
  try { return JSON.parse(localStorage.getItem(DRAFT_PREFIX + key) || "null"); } catch (e) { return null; }
}

function writeDraft(key, fields, submitted) {
  try {
    localStorage.setItem(DRAFT_PREFIX + key, JSON.stringify({ fields, submitted, saved_at: new Date().toISOString() }));
  } catch (e) { /* storage full or disabled: the unsaved-changes prompt still protects the text */ }
}

// The page after a save that stored (the server names the draft it sent: data-saved-work on
// the body) lets that draft go, if it is still the one that was sent.
function forgetSavedWork() {
  const key = document.body && document.body.dataset.savedWork;
  if (!key) return;
  const draft = readDraft(key);
  if (draft && draft.submitted) localStorage.removeItem(DRAFT_PREFIX + key);
}

function keepWork(form) {
  const key = form.dataset.keepWork;
  const initial = formFields(form);
  // A refused save draws the form again with what was typed (data-unsaved): none of it is
  // stored, so it stays in the draft and leaving asks first, until a save succeeds.
  const unsaved = form.dataset.unsaved === "1";
  let submitting = false;
  let dirty = unsaved;
  const draft = readDraft(key);
  if (draft && draft.fields && !sameFields(draft.fields, initial)) offerDraft(form, key, draft);
  else if (draft && !unsaved) localStorage.removeItem(DRAFT_PREFIX + key);
  if (unsaved && !(draft && draft.fields && !sameFields(draft.fields, initial))) writeDraft(key, initial, false);

  const save = (submitted) => {
    const now = formFields(form);
    dirty = unsaved || form.dataset.unsaved === "1" || !sameFields(now, initial);
    if (dirty) writeDraft(key, now, submitted);
    else try { localStorage.removeItem(DRAFT_PREFIX + key); } catch (e) { /* disabled */ }
  };
  let timer = null;
  form.addEventListener("input", () => { dirty = true; clearTimeout(timer); timer = setTimeout(() => save(false), 400); });
  form.addEventListener("change", () => { clearTimeout(timer); timer = setTimeout(() => save(false), 100); });
  form.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    clearTimeout(timer);
    save(true);  // kept until the page after the save says it was stored
    let field = form.querySelector('input[name="_keep_work"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "_keep_work";
      form.append(field);
    }
    field.value = key;
    submitting = true;
  });
  window.addEventListener("pageshow", (event) => { if (event.persisted) submitting = false; });
  window.addEventListener("beforeunload", (event) => {
    if (submitting) return;
    if (!unsaved && form.dataset.unsaved !== "1" && (!dirty || sameFields(formFields(form), initial))) return;
    event.preventDefault();
    event.returnValue = "";
  });
}

function offerDraft(form, key, draft) {
  const box = document.createElement("div");
  box.className = "alert alert-warn draft-offer";
  box.setAttribute("role", "region");
  box.setAttribute("aria-label", "Unsaved draft");
  const when = new Date(draft.saved_at);
  const text = document.createElement("p");
  text.textContent = "This browser kept a draft you did not save (" + when.toLocaleString() + "). Restore it, or discard it to keep what is shown.";
  const restore = document.createElement("button");
  restore.type = "button";
  restore.className = "btn btn-primary";
  restore.textContent = "Restore my draft";
  const discard = document.createElement("button");
  discard.type = "button";
  discard.className = "btn";
  discard.textContent = "Discard the draft";
  restore.addEventListener("click", () => {
    for (const [name, value] of Object.entries(draft.fields)) if (!value.includes("\u0000")) setField(form, name, value);
    box.remove();
    form.dataset.unsaved = "1";
  });
  discard.addEventListener("click", () => { localStorage.removeItem(DRAFT_PREFIX + key); box.remove(); });
  const actions = document.createElement("p");
  actions.className = "actions";
  actions.append(restore, discard);
  box.append(text, actions);
  form.before(box);
}

// --- Length limits: a counter before the limit, a refusal (never a silent cut) after it --
function limitCounter(field) {
  const limit = Number(field.getAttribute("maxlength"));
  if (!limit || field.type === "search" || field.type === "password" || field.type === "email") return;
  field.removeAttribute("maxlength");
  field.dataset.limit = String(limit);
  const counter = document.createElement("p");
  counter.className = "counter small";
  counter.id = (field.id || field.name.replace(/\W/g, "-")) + "-counter";
  counter.setAttribute("aria-live", "polite");
  field.after(counter);
  const described = field.getAttribute("aria-describedby");
  field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
  const update = () => {
    // The server keeps a form field without its surrounding spaces (a source, in a code
    // editor, as typed): count what it keeps.
    const kept = field.dataset.codeEditor === undefined ? field.value.trim() : field.value;
    const length = Array.from(kept).length;
    const over = length - limit;
    if (over > 0) {
      const message = "Too long: " + length.toLocaleString() + " of at most " + limit.toLocaleString() + " characters. Remove " + over.toLocaleString() + " to save.";
      counter.textContent = message;
      counter.classList.add("is-over");
      field.setAttribute("aria-invalid", "true");
      field.setCustomValidity(message);
    } else {
      counter.textContent = length >= limit * 0.8 ? length.toLocaleString() + " / " + limit.toLocaleString() + " characters" : "";
      counter.classList.remove("is-over");
      if (field.dataset.serverInvalid !== "1") field.removeAttribute("aria-invalid");
      field.setCustomValidity("");
    }
  };
  if (field.getAttribute("aria-invalid") === "true") field.dataset.serverInvalid = "1";
  field.addEventListener("input", update);
  update();
}

// The starter ruleset is only put in the editor when the person asks for it.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-use-starter]");
  if (!button) return;
  const source = document.getElementById(button.dataset.useStarter);
  const target = document.getElementById(button.dataset.target);
  if (!source || !target) return;
  target.value = source.textContent;
  target.dispatchEvent(new Event("code-editor:set"));
  target.dispatchEvent(new Event("input", { bubbles: true }));
});

// Ctrl+S (Cmd+S) saves an editor form from any of its fields, not only from the code
// editor (which handles the key itself): the hints say "Ctrl+S saves".
document.addEventListener("keydown", (event) => {
  if (event.defaultPrevented || event.key.toLowerCase() !== "s" || event.shiftKey || event.altKey) return;
  if (!(event.ctrlKey || event.metaKey)) return;
  const form = event.target instanceof Element ? event.target.closest("form[data-keep-work]") : null;
  if (!form) return;
  event.preventDefault();
  const submitter = form.querySelector('button[type="submit"].btn-primary, button:not([type]).btn-primary');
  if (form.requestSubmit) form.requestSubmit(submitter || undefined); else form.submit();
});

function keepWorkInit() {
  forgetSavedWork();
  document.querySelectorAll("main form input[maxlength], main form textarea[maxlength]").forEach(limitCounter);
  document.querySelectorAll("form[data-keep-work]").forEach(keepWork);
  conflictChoices();
}

// --- The conflict box: take theirs or keep mine, field by field or hunk by hunk --------
// The box carries both sides as JSON; a choice copies that side into the form's field
// (or, for a single source, rebuilds the source from every hunk's chosen side), as a
// change the person could have typed: the draft, preview and unsaved prompt follow.
function conflictChoices() {
  const box = document.querySelector("[data-conflict]");
  const data = document.getElementById("conflict-choices");
  if (!box || !data) return;
  const choices = JSON.parse(data.textContent);
  box.querySelectorAll(".conflict-take").forEach((el) => { el.hidden = false; });
  box.querySelectorAll(".conflict-nojs").forEach((el) => el.remove());
  const put = (id, value) => {
    const el = document.getElementById(id);
    if (!el || el.value === value) return;
    el.value = value;
    el.dispatchEvent(new Event("code-editor:set"));
    el.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const applyField = (radio) => {
    const field = choices.fields[radio.dataset.conflictField];
    if (field) put(field.id, field[radio.value]);
  };
  const applyHunks = () => {
    const parts = choices.hunks.map((hunk, i) => {
      if (hunk.same) return hunk.mine;
      const radio = box.querySelector(`input[data-conflict-hunk="${i}"]:checked`);
      return radio && radio.value === "theirs" ? hunk.theirs : hunk.mine;
    });
    put(choices.source, parts.join(""));
  };
  const applyAll = () => {
    box.querySelectorAll("input[data-conflict-field]:checked").forEach(applyField);
    if (choices.source) applyHunks();
  };
  box.addEventListener("change", (event) => {
    const radio = event.target;
    if (radio.dataset.conflictField) applyField(radio);
    else if (radio.dataset.conflictHunk !== undefined) applyHunks();
  });
  box.addEventListener("click", (event) => {
    const button = event.target.closest("[data-conflict-all]");
    if (!button) return;
    box.querySelectorAll(`input[type=radio][value="${button.dataset.conflictAll}"]`).forEach((radio) => { radio.checked = true; });
    applyAll();
  });
  applyAll();  // start from the side that keeps both people's work
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", keepWorkInit); else keepWorkInit();

// A save refused after the session ended: fetch the fresh form token (after the person
// signed in again in another tab), then send the kept text again.
document.addEventListener("submit", async (event) => {
  const form = event.target.closest("form[data-refresh-token]");
  if (!form || form.dataset.tokenFresh === "1") return;
  event.preventDefault();
  const status = form.querySelector("[role=status]");
  try {
    const response = await fetch(form.dataset.refreshToken, { credentials: "same-origin", headers: { Accept: "application/json" } });
    const json = (response.headers.get("Content-Type") || "").includes("json");
    const data = response.ok && !response.redirected && json ? await response.json() : {};
    if (!data.csrf_token) {
      if (status) status.textContent = "Not signed in yet: sign in again in the other tab first, then press Save again.";
      return;
    }
    form.elements.csrf_token.value = data.csrf_token;
    form.dataset.tokenFresh = "1";
    form.requestSubmit();
  } catch (error) {
    if (status) status.textContent = "The studio did not answer; your text is still here. Try again in a moment.";
  }
});

// --- The preview follows the work, after the editor's own check ----------------------
// The preview pane re-renders on `preview:refresh`, sent here once typing pauses (350 ms).
// In a code editor that checks its text on the server, the preview waits for that check,
// so the markers always come first; and when the last preview took long (a large
// ruleset), it waits for a pause as long as that preview took, so a preview never holds
// up the check of the next keystroke. Only one preview is in flight (hx-sync queue).
(function previewFollowsTheWork() {
  const PAUSE_MS = 350;
  const LONGEST_WAIT_MS = 1500;
  const UNCHECKED_MS = 3000;  // the check never answered (offline, signed out): refresh anyway
  let timer = null;
  let waitingForCheck = false;
  let lastCostMs = 0;
  let startedAt = 0;
  const pane = () => document.getElementById("preview-result");
  const refreshIn = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      waitingForCheck = false;
      const target = pane();
      if (target && window.htmx) window.htmx.trigger(target, "preview:refresh");
    }, ms);
  };
  document.addEventListener("input", (event) => {
    if (!pane() || !event.target.closest) return;
    // CodeMirror's own editing surface: its change arrives as the textarea's input.
    if (event.target.closest(".cm-editor")) return;
    const checked = event.target.closest("[data-code-editor][data-diagnostics-url]");
    if (checked && checked.dataset.mounted) {
      waitingForCheck = true;
      refreshIn(UNCHECKED_MS);
    } else {
      refreshIn(PAUSE_MS);
    }
  });
  document.addEventListener("code-editor:lint-done", () => {
    if (waitingForCheck) refreshIn(Math.min(LONGEST_WAIT_MS, Math.max(50, lastCostMs)));
  });
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (event.target === pane()) startedAt = performance.now();
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.target === pane() && startedAt) lastCostMs = performance.now() - startedAt;
  });
})();

// "Jump to preview" hides while the preview is on screen: it would only cover it. The
// strip under the sticky (opaque) save bar does not count: a preview scrolled only under
// the bar is not seen, and the link is still needed.
(function jumpHidesAtThePreview() {
  const pane = document.getElementById("preview-pane");
  const jumps = document.querySelectorAll(".jump-to-preview");
  if (!pane || !jumps.length || !("IntersectionObserver" in window)) return;
  const bar = jumps[0].closest(".actions");
  const covered = bar && getComputedStyle(bar).position === "sticky" ? Math.ceil(bar.offsetHeight) : 0;
  new IntersectionObserver((entries) => {
    const seen = entries.some((entry) => entry.isIntersecting);
    jumps.forEach((jump) => jump.classList.toggle("is-at-preview", seen));
  }, { rootMargin: `0px 0px -${covered}px 0px` }).observe(pane);
})();
