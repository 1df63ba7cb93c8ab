// The code editor for rulesets, layouts and templates: CodeMirror 6. Two small entry
// files start it: code_editor_rules.js (the rule language only) and
// code_editor_templates.js (adds HTML/MJML), bundled at setup by scripts/install into
// static/vendor/, so the rules page does not download the HTML parser. It mounts over a plain
// <textarea data-code-editor> and writes every change back to it, so the form posts,
// htmx previews and the no-JavaScript fallback keep working unchanged.
// CSP: no inline script, no eval; the server answers JSON only.
import { EditorState, EditorSelection } from "@codemirror/state";
import { EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter,
  drawSelection, hoverTooltip, ViewPlugin, Decoration, MatchDecorator, placeholder } from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { StreamLanguage, syntaxHighlighting, bracketMatching,
  indentOnInput, HighlightStyle } from "@codemirror/language";
import { tags } from "@lezer/highlight";
import { linter, lintGutter, lintKeymap } from "@codemirror/lint";
import { autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";

// CodeMirror writes its base theme into a <style> element, which the studio's CSP
// (style-src 'self', no inline style) refuses to apply. The same rules go into a
// constructed stylesheet instead (CSSOM, which the policy allows), kept in step with
// the element as CodeMirror adds rules for tooltips, panels and the lint gutter.
// The page's nonce for that element (the studio adds it to the page's style-src), so the
// browser applies it as written; the constructed sheet below stays for pages without one.
const STYLE_NONCE = (document.querySelector('meta[name="style-nonce"]') || {}).content || "";
const cmSheet = new CSSStyleSheet();
document.adoptedStyleSheets = [...document.adoptedStyleSheets, cmSheet];
function adoptStyles() {
  let text = "";
  document.head.querySelectorAll("style").forEach((tag) => { if (!tag.nonce) text += tag.textContent + "\n"; });
  cmSheet.replaceSync(text);
}
new MutationObserver(adoptStyles).observe(document.head, { childList: true, subtree: true, characterData: true });

// The band of the window the form's sticky save bar covers, while it covers part of the
// editor (0 when the editor ends above it). Not always: CodeMirror also takes the margin
// off the part of the editor it shows tooltips in, and on a short editor a fixed margin
// hid every hover and quick-fix tooltip.
function stickyBarOverlap(view, form) {
  const bar = form && form.querySelector(":scope > .actions, :scope > .sticky-actions");
  if (!bar || getComputedStyle(bar).position !== "sticky") return 0;
  const top = bar.getBoundingClientRect().top;
  if (view.scrollDOM.getBoundingClientRect().bottom <= top) return 0;
  return Math.max(0, window.innerHeight - top) + 8;
}

function csrfToken() {
  const field = document.querySelector("input[name=csrf_token]");
  return field ? field.value : "";
}

async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken(), Accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data = (response.headers.get("Content-Type") || "").includes("json") ? await response.json() : null;
  return { status: response.status, data };
}

const vocabularies = new Map();
function vocabulary(url) {
  if (!vocabularies.has(url)) {
    vocabularies.set(url, fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : null)).catch(() => null));
  }
  return vocabularies.get(url);
}

// Position of line:column (1-based, columns count code points as the server does).
function offsetOf(doc, line, column) {
  if (line < 1) return 0;
  if (line > doc.lines) return doc.length;
  const info = doc.line(line);
  const chars = Array.from(info.text);
  const prefix = chars.slice(0, Math.max(0, column - 1)).join("");
  return Math.min(info.from + prefix.length, info.to);
}

// One highlight style for every editor, every colour at least 4.5:1 on white and on the
// active line's tint (WCAG AA); CodeMirror's default style has some that are not.
const studioHighlight = HighlightStyle.define([
  { tag: [tags.keyword, tags.operator, tags.controlKeyword], color: "#7a1fa2" },
  { tag: [tags.string, tags.attributeValue, tags.special(tags.string)], color: "#a3341c" },
  { tag: [tags.number, tags.bool, tags.null], color: "#0b6e4f" },
  { tag: [tags.comment, tags.meta], color: "#5b6475", fontStyle: "italic" },
  { tag: tags.propertyName, color: "#1d4ed8", class: "cm-field" },
  { tag: [tags.atom, tags.variableName, tags.name], color: "#1d2433" },
  { tag: [tags.tagName, tags.typeName, tags.namespace], color: "#0a6b4a" },
  { tag: tags.attributeName, color: "#8a4b00" },
  { tag: [tags.angleBracket, tags.punctuation, tags.bracket], color: "#4a5468" },
  { tag: tags.invalid, color: "#b3261e" },
  { tag: tags.link, color: "#1d4ed8", textDecoration: "underline" },
  { tag: tags.heading, fontWeight: "bold" },
  { tag: tags.emphasis, fontStyle: "italic" },
  { tag: tags.strong, fontWeight: "bold" },
]);

// --- the rule language ---------------------------------------------------------------

function ruleLanguage(keywords) {
  const words = new Set(keywords);
  return StreamLanguage.define({
    name: "rules",
    token(stream) {
      if (stream.eatSpace()) return null;
      if (stream.match(/#.*/)) return "comment";
      if (stream.match(/"(?:[^"\\]|\\.)*"?/) || stream.match(/'(?:[^'\\]|\\.)*'?/)) return "string";
      if (stream.match(/-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/)) return "number";
      const name = stream.match(/[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)*/);
      if (name) {
        const text = name[0];
        if (text === "true" || text === "false") return "bool";
        if (words.has(text)) return "keyword";
        return text.includes(".") ? "propertyName" : "atom";
      }
      if (stream.match(/==|!=|<=|>=|<|>/)) return "operator";
      stream.next();
      return "punctuation";
    },
    languageData: { commentTokens: { line: "#" } },
  });
}

const NAME_BEFORE = /[A-Za-z_][A-Za-z0-9_.-]*$/;

function ruleCompletions(vocabUrl) {
  return async (context) => {
    const word = context.matchBefore(/[A-Za-z_][A-Za-z0-9_.-]*/);
    if (!word && !context.explicit) return null;
    const vocab = await vocabulary(vocabUrl);
    if (!vocab) return null;
    const from = word ? word.from : context.pos;
    const line = context.state.doc.lineAt(from);
    const before = context.state.sliceDoc(line.from, from);
    // `<field> is` / `is not` / `in [..`: the field's enum values.
    const compared = before.match(/([A-Za-z_][A-Za-z0-9_.-]*)\s+(?:is(?:\s+not)?|(?:not\s+)?in\s*\[[^\]]*|contains)\s*$/);
    if (compared) {
      const field = vocab.fields.find((f) => f.path === compared[1]);
      if (field && field.values.length) {
        return { from, options: field.values.map((v) => ({ label: v, type: "enum", detail: field.path })), validFor: /^[A-Za-z0-9_-]*$/ };
      }
    }
    // `offer <key>` and `follow up ... with [offer] <key>`: offer keys.
    if (/(?:^|\s)(?:offer|with(?:\s+offer)?)\s+$/.test(before) && !/never\s+offer\s+$/.test(before)) {
      return { from, options: vocab.offers.map((o) => ({ label: o.key, type: "offer",
        detail: o.status || "", info: offerDoc(o) })), validFor: /^[A-Za-z0-9_-]*$/ };
    }
    const options = vocab.fields.map((f) => ({ label: f.path, type: "property", detail: f.describe, info: f.doc || undefined }));
    for (const root of vocab.free_roots || []) options.push({ label: root + ".", type: "namespace", detail: "free-form data" });
    for (const k of vocab.keywords) options.push({ label: k, type: "keyword", boost: -1 });
    return { from, options, validFor: /^[A-Za-z0-9_.-]*$/ };
  };
}

function offerDoc(o) {
  const parts = [o.title, o.owner ? "owner " + o.owner : "", o.status ? "status " + o.status : "",
    o.valid_from || o.valid_to ? "valid " + (o.valid_from || "…") + " to " + (o.valid_to || "open-ended") : "",
    o.approved ? "approved" : "never approved"];
  return parts.filter(Boolean).join(" · ");
}

function ruleHover(vocabUrl) {
  return hoverTooltip(async (view, pos) => {
    const line = view.state.doc.lineAt(pos);
    const text = line.text;
    let start = pos - line.from;
    let end = start;
    while (start > 0 && /[A-Za-z0-9_.-]/.test(text[start - 1])) start -= 1;
    while (end < text.length && /[A-Za-z0-9_.-]/.test(text[end])) end += 1;
    if (start === end) return null;
    const word = text.slice(start, end);
    const vocab = await vocabulary(vocabUrl);
    if (!vocab) return null;
    const field = vocab.fields.find((f) => f.path === word);
    const offer = !field && vocab.offers.find((o) => o.key === word);
    if (!field && !offer) return null;
    return {
      pos: line.from + start, end: line.from + end, above: true,
      create() {
        const dom = document.createElement("div");
        dom.className = "cm-doc-tooltip";
        const head = document.createElement("strong");
        head.textContent = word;
        const body = document.createElement("p");
        body.textContent = field ? field.type + ": " + field.describe + (field.doc ? ". " + field.doc : "") : "offer: " + offerDoc(offer);
        dom.append(head, body);
        return { dom };
      },
    };
  });
}

// --- templates (MJML / HTML with Jinja) --------------------------------------------------

const jinjaMarks = new MatchDecorator({
  regexp: /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\{#[\s\S]*?#\}/g,
  decoration: Decoration.mark({ class: "cm-jinja" }),
});
const jinjaHighlight = ViewPlugin.fromClass(class {
  constructor(view) { this.decorations = jinjaMarks.createDeco(view); }
  update(update) { this.decorations = jinjaMarks.updateDeco(update, this.decorations); }
}, { decorations: (v) => v.decorations });

function templateCompletions(vocabUrl) {
  return async (context) => {
    const line = context.state.doc.lineAt(context.pos);
    const before = context.state.sliceDoc(line.from, context.pos);
    const open = Math.max(before.lastIndexOf("{{"), before.lastIndexOf("{%"));
    if (open < 0 || before.lastIndexOf("}}") > open || before.lastIndexOf("%}") > open) return null;
    const vocab = await vocabulary(vocabUrl);
    if (!vocab) return null;
    const filter = context.matchBefore(/\|\s*[a-z_]*$/);
    if (filter) {
      const from = filter.from + filter.text.length - filter.text.replace(/^\|\s*/, "").length;
      return { from, options: vocab.filters.map((f) => ({ label: f, type: "function", detail: "filter" })) };
    }
    const word = context.matchBefore(/[A-Za-z_][A-Za-z0-9_.]*/);
    const from = word ? word.from : context.pos;
    if (!word && !context.explicit) return null;
    const options = vocab.names.map((n) => ({ label: n.name, type: n.kind === "root" ? "namespace" : "property", info: n.doc }));
    for (const h of vocab.helpers) options.push({ label: h.name, type: "function", info: h.doc });
    if (before.slice(open, open + 2) === "{%") for (const t of vocab.tags) options.push({ label: t, type: "keyword" });
    return { from, options, validFor: /^[A-Za-z0-9_.]*$/ };
  };
}

// --- diagnostics -------------------------------------------------------------------------

function toCodeMirror(doc, d) {
  let from = offsetOf(doc, d.line, d.column || 1);
  let to = d.end_line ? offsetOf(doc, d.end_line, d.end_column || 1) : from;
  if (!d.column && d.line >= 1 && d.line <= doc.lines) { from = doc.line(d.line).from; to = doc.line(d.line).to; }
  if (to <= from) to = Math.min(from + 1, doc.length);
  const message = d.code + ": " + d.message + (d.hint ? " (" + d.hint + ")" : "");
  const actions = (d.fixes || []).map((fix) => ({
    name: fix.label,
    apply(view) {
      const a = offsetOf(view.state.doc, fix.line, fix.column);
      const b = offsetOf(view.state.doc, fix.end_line, fix.end_column);
      view.dispatch({ changes: { from: a, to: b, insert: fix.insert }, userEvent: "input.fix" });
    },
  }));
  return { from, to, severity: d.severity === "error" ? "error" : "warning", message, actions };
}

function serverLinter(url, extra) {
  return linter(async (view) => {
    const doc = view.state.doc;
    try {
      const { status, data } = await postJSON(url, { source: doc.toString(), ...extra() });
      if (status !== 200 || !data) return [];
      if (view.state.doc !== doc) return [];
      view.dom.dispatchEvent(new CustomEvent("code-editor:lint-done", { bubbles: true }));
      return data.diagnostics.filter((d) => d.line >= 1).map((d) => toCodeMirror(doc, d));
    } catch (error) {
      return [];
    }
  }, { delay: 300 });
}

// --- mounting ------------------------------------------------------------------------------

function submitForm(form) {
  if (!form) return true;
  if (form.requestSubmit) form.requestSubmit(); else form.submit();
  return true;
}

const options = { templateLanguage: () => [] };

function mount(textarea) {
  const form = textarea.form;
  const kind = textarea.dataset.codeEditor;
  const label = document.querySelector(`label[for="${textarea.id}"]`);
  if (label && !label.id) label.id = textarea.id + "-label";
  const extra = () => ({
    name: form && form.elements.name ? form.elements.name.value : "",
    channel: form && form.elements.channel ? form.elements.channel.value : "",
    // Which ruleset this is, so its overlaps with the other rulesets can be checked.
    ruleset_key: form && form.elements.ruleset_key ? form.elements.ruleset_key.value
      : (form && form.elements.key ? form.elements.key.value : ""),
  });
  const extensions = [
    lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(),
    bracketMatching(), closeBrackets(), indentOnInput(), highlightSelectionMatches(), lintGutter(),
    syntaxHighlighting(studioHighlight),
    EditorView.lineWrapping,
    ...(STYLE_NONCE ? [EditorView.cspNonce.of(STYLE_NONCE)] : []),
    // The form's save bar sticks to the bottom of the window over the editor: the line
    // being typed is kept above it, not behind it.
    EditorView.scrollMargins.of((view) => ({ bottom: stickyBarOverlap(view, form) })),
    EditorView.contentAttributes.of({
      "aria-labelledby": label ? label.id : "", "aria-multiline": "true", role: "textbox",
      spellcheck: "false", autocapitalize: "off", autocorrect: "off",
    }),
    keymap.of([
      { key: "Mod-s", preventDefault: true, run: () => submitForm(form) },
      ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap,
      ...completionKeymap, ...lintKeymap,
    ]),
    EditorView.updateListener.of((update) => {
      if (!update.docChanged) return;
      textarea.value = update.state.doc.toString();
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
    }),
  ];
  if (textarea.placeholder) extensions.push(placeholder(textarea.placeholder));
  if (kind === "rules") {
    const vocabUrl = textarea.dataset.vocabularyUrl;
    extensions.push(ruleLanguage(RULE_KEYWORDS));
    extensions.push(autocompletion({ override: [ruleCompletions(vocabUrl)], activateOnTyping: true }));
    extensions.push(ruleHover(vocabUrl));
  } else {
    extensions.push(...options.templateLanguage(), jinjaHighlight);
    extensions.push(autocompletion({ override: [templateCompletions(textarea.dataset.vocabularyUrl)] }));
  }
  if (textarea.dataset.diagnosticsUrl) extensions.push(serverLinter(textarea.dataset.diagnosticsUrl, extra));

  const view = new EditorView({
    state: EditorState.create({ doc: textarea.value, extensions }),
  });
  view.dom.classList.add("code-editor-cm");
  textarea.after(view.dom);
  textarea.hidden = true;
  textarea.style.display = "none";
  // The problems list follows the markers: it is asked for once their answer is in, and
  // the server then answers both from one compile.
  if (kind === "rules" && textarea.getAttribute("hx-trigger") && textarea.dataset.diagnosticsUrl) {
    textarea.setAttribute("hx-trigger", "code-editor:checked");
  }
  textarea.codeEditor = view;
  view.dom.addEventListener("code-editor:lint-done", () => {
    textarea.dispatchEvent(new Event("code-editor:checked"));
  });
  textarea.dataset.mounted = "1";
  adoptStyles();
  if (label) {
    // The label now names the editor (aria-labelledby), not the hidden textarea.
    label.removeAttribute("for");
    label.addEventListener("click", () => view.focus());
  }
  if (textarea.hasAttribute("autofocus")) view.focus();
  // Someone replaced the textarea's value (a restored draft): show it, undoably.
  textarea.addEventListener("code-editor:set", () => {
    if (textarea.value !== view.state.doc.toString()) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: textarea.value } });
    }
  });
  return view;
}

// The grammar's keywords (dsl/grammar.lark); the vocabulary endpoint sends the same list
// for completion, and highlighting needs them before it answers.
const RULE_KEYWORDS = ["never", "offer", "offers", "when", "limit", "to", "per", "customer", "at", "most",
  "response", "rule", "of", "customers", "follow", "up", "after", "with", "then", "within", "priority", "or", "and", "not",
  "is", "in", "contains", "hours", "hour", "days", "day", "weeks", "week"];

async function formatInEditor(button) {
  const textarea = document.getElementById(button.dataset.formatTarget || "source");
  const view = textarea && textarea.codeEditor;
  if (!view) return;
  const status = document.getElementById(button.dataset.formatStatus || "format-status");
  const { status: code, data } = await postJSON(button.dataset.formatUrl, { source: view.state.doc.toString() });
  if (code === 200 && data && typeof data.source === "string") {
    if (data.source !== view.state.doc.toString()) {
      // One transaction: Ctrl+Z brings the previous layout back.
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: data.source },
        userEvent: "input.format", selection: EditorSelection.cursor(Math.min(view.state.selection.main.head, data.source.length)) });
    }
    if (status) status.textContent = "Formatted. Press Ctrl+Z to undo.";
  } else if (status) {
    status.textContent = (data && data.error) || "The studio could not format this source.";
  }
  view.focus();
}

function jumpTo(target) {
  const textarea = document.getElementById("source");
  const view = textarea && textarea.codeEditor;
  if (!view) return false;
  const pos = offsetOf(view.state.doc, Number(target.dataset.jumpLine), Number(target.dataset.jumpColumn || 1));
  view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
  view.focus();
  return true;
}

function init() {
  adoptStyles();
  document.querySelectorAll("textarea[data-code-editor]").forEach((t) => { if (!t.dataset.mounted) mount(t); });
  document.querySelectorAll("[data-format-url]").forEach((b) => { b.hidden = false; });
}

document.addEventListener("click", (event) => {
  const format = event.target.closest("[data-format-url]");
  if (format) { event.preventDefault(); formatInEditor(format); return; }
  const jump = event.target.closest("[data-jump-line]");
  if (jump && jumpTo(jump)) event.stopImmediatePropagation();
}, true);

// Start the editors on this page; `templateLanguage` gives the layout editor its language.
export function start(settings = {}) {
  Object.assign(options, settings);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
}
