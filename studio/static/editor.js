// The offer editor's behaviours: the rich-text body (Tiptap), the asset picker, and the
// variant preview width. Bundled by esbuild into static/vendor/editor.js (scripts/install).
// Everything here enhances a form that already works without JavaScript: the body is a
// plain <textarea> of HTML until the editor replaces it, and stays the field that is posted.
import { Editor, Node } from "@tiptap/core";
import StarterKit from "@tiptap/starter-kit";
import Image from "@tiptap/extension-image";

const SAFE_LINK = /^(https?:\/\/|mailto:|tel:|\/|#|\?)/i;
let activeEditor = null;

// ProseMirror writes text as HTML, so "{% if a > 5 %}" would come back as "{% if a &gt; 5 %}".
// Template tags are code, not text: put their characters back as the person typed them.
function restoreTemplateTags(html) {
  return html.replace(/\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}/g, (tag) =>
    tag.replace(/&gt;/g, ">").replace(/&lt;/g, "<").replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'").replace(/&nbsp;|\u00a0/g, " ").replace(/&amp;/g, "&"));
}

// A template statement on its own ({% if ... %}, {% for ... %}, {% endif %}, ...) is a
// block of code between paragraphs, not a paragraph: it is kept as a template block in
// the editor and written back bare, so "{% if %}<p>..</p>{% endif %}" stays exactly that.
const BLOCK_TAG = /\{%-?\s*(?:if|elif|else|endif|for|endfor|set|with|endwith)\b[\s\S]*?-?%\}/;
const TemplateBlock = Node.create({
  name: "templateBlock",
  group: "block",
  atom: true,
  selectable: true,
  draggable: false,
  addAttributes() {
    return { code: { default: "", parseHTML: (el) => el.getAttribute("data-template-block") || "" } };
  },
  parseHTML() { return [{ tag: "div[data-template-block]" }]; },
  renderHTML({ HTMLAttributes }) {
    return ["div", { "data-template-block": HTMLAttributes.code, class: "template-block" }, HTMLAttributes.code];
  },
});

function escapeAttribute(text) {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Stored HTML -> editor HTML: block template tags (bare between blocks, or alone in a
// paragraph, as older saves wrapped them) become template-block elements.
function templateBlocksIn(html) {
  const unwrapped = html.replace(new RegExp(`<p>\\s*(${BLOCK_TAG.source})\\s*<\\/p>`, "g"), "$1");
  const tags = new RegExp(BLOCK_TAG.source, "g");
  let out = "";
  let last = 0;
  for (let m = tags.exec(unwrapped); m; m = tags.exec(unwrapped)) {
    out += unwrapped.slice(last, m.index);
    const soFar = out.replace(/\s+$/, "");
    const atBlockBoundary = soFar === "" || /<\/(?:p|ul|ol|h[1-6]|blockquote|div)>$/.test(soFar);
    out += atBlockBoundary ? `<div data-template-block="${escapeAttribute(m[0])}"></div>` : m[0];
    last = m.index + m[0].length;
  }
  return out + unwrapped.slice(last);
}

// Editor HTML -> stored HTML: template blocks written back as the bare tag.
function templateBlocksOut(html) {
  return html.replace(/<div data-template-block="([^"]*)"[^>]*>[\s\S]*?<\/div>/g, (m, code) =>
    code.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&"));
}

function button(label, command, extra = {}) {
  const el = document.createElement("button");
  el.type = "button";
  el.className = "tool";
  el.textContent = label;
  el.dataset.command = command;
  if (extra.title) el.title = extra.title;
  if (extra.pressable) el.setAttribute("aria-pressed", "false");
  return el;
}

function buildToolbar() {
  const bar = document.createElement("div");
  bar.className = "rich-toolbar";
  bar.setAttribute("role", "toolbar");
  bar.setAttribute("aria-label", "Formatting");
  const tools = [
    button("Bold", "bold", { pressable: true, title: "Bold (Ctrl+B)" }),
    button("Italic", "italic", { pressable: true, title: "Italic (Ctrl+I)" }),
    button("• List", "bulletList", { pressable: true, title: "Bulleted list" }),
    button("1. List", "orderedList", { pressable: true, title: "Numbered list" }),
    button("Link", "link", { pressable: true, title: "Add or change a link" }),
    button("Image", "image", { title: "Insert an image from the asset library" }),
    button("Undo", "undo"),
    button("Redo", "redo"),
    button("HTML", "source", { pressable: true, title: "Edit the HTML directly" }),
  ];
  tools.forEach((tool) => bar.appendChild(tool));
  return bar;
}

function buildLinkRow(id) {
  const row = document.createElement("div");
  row.className = "rich-linkrow";
  row.hidden = true;
  const label = document.createElement("label");
  label.htmlFor = `${id}-link`;
  label.textContent = "Link address";
  const input = document.createElement("input");
  input.type = "text";
  input.id = `${id}-link`;
  input.placeholder = "https://…";
  input.spellcheck = false;
  const apply = button("Apply link", "link-apply");
  apply.classList.add("btn");
  const remove = button("Remove link", "link-remove");
  remove.classList.add("btn", "btn-quiet");
  const message = document.createElement("span");
  message.className = "error small";
  message.setAttribute("role", "alert");
  row.append(label, input, apply, remove, message);
  return { row, input, message };
}

function mountRichEditor(host) {
  const textarea = document.getElementById(host.dataset.richEditor);
  if (!textarea) return;
  const field = host.closest(".field");
  const label = field.querySelector("label");
  const toolbar = buildToolbar();
  const link = buildLinkRow(textarea.id);
  const surface = document.createElement("div");
  surface.className = "rich-surface";
  const pickerSlot = document.createElement("div");
  pickerSlot.className = "picker-slot";
  host.append(toolbar, link.row, surface, pickerSlot);

  const editor = new Editor({
    element: surface,
    injectCSS: false,
    content: templateBlocksIn(textarea.value),
    extensions: [
      TemplateBlock,
      StarterKit.configure({
        codeBlock: false,
        heading: { levels: [2, 3] },
        link: {
          openOnClick: false,
          autolink: true,
          HTMLAttributes: { rel: null, target: null, class: null },
          isAllowedUri: (url) => SAFE_LINK.test(url),
        },
      }),
      Image.configure({ inline: false, allowBase64: false }),
    ],
    editorProps: {
      attributes: {
        class: "rich-content",
        role: "textbox",
        "aria-multiline": "true",
        "aria-labelledby": label.id,
        "aria-describedby": textarea.getAttribute("aria-describedby") || "",
      },
    },
    onUpdate: ({ editor: current }) => {
      textarea.value = current.isEmpty ? "" : restoreTemplateTags(templateBlocksOut(current.getHTML()));
    },
    onTransaction: () => refresh(),
    onFocus: () => { activeEditor = editor; },
  });
  activeEditor = activeEditor || editor;
  // Someone replaced the textarea's value (a restored draft, a side taken in a conflict).
  textarea.addEventListener("code-editor:set", () => {
    editor.commands.setContent(templateBlocksIn(textarea.value), { emitUpdate: false });
  });

  function refresh() {
    toolbar.querySelectorAll("[aria-pressed]").forEach((tool) => {
      const name = tool.dataset.command;
      if (name === "source") return;
      tool.setAttribute("aria-pressed", String(editor.isActive(name)));
    });
  }

  function openLinkRow() {
    link.row.hidden = false;
    link.message.textContent = "";
    link.input.value = editor.getAttributes("link").href || "";
    link.input.focus();
  }

  function applyLink() {
    const href = link.input.value.trim();
    if (!href) {
      editor.chain().focus().extendMarkRange("link").unsetLink().run();
    } else if (!SAFE_LINK.test(href)) {
      link.message.textContent = "Links start with https://, http://, mailto: or tel:.";
      return;
    } else {
      // Put the cursor after the link, so typing goes on in plain text.
      editor.chain().focus().extendMarkRange("link").setLink({ href }).run();
      editor.chain().setTextSelection(editor.state.selection.to).unsetMark("link").run();
    }
    link.row.hidden = true;
  }

  async function openPicker() {
    activeEditor = editor;
    const response = await fetch(host.dataset.pickerUrl, { headers: { "HX-Request": "true" } });
    pickerSlot.innerHTML = await response.text();
    if (window.htmx) window.htmx.process(pickerSlot);
    const first = pickerSlot.querySelector("button, a");
    if (first) first.focus();
  }

  function toggleSource(tool) {
    const showingSource = tool.getAttribute("aria-pressed") === "true";
    if (showingSource) {
      editor.commands.setContent(templateBlocksIn(textarea.value), { emitUpdate: false });
      textarea.hidden = true;
      surface.hidden = false;
      editor.commands.focus();
    } else {
      textarea.hidden = false;
      surface.hidden = true;
      textarea.focus();
    }
    tool.setAttribute("aria-pressed", String(!showingSource));
    toolbar.querySelectorAll(".tool").forEach((other) => {
      if (other !== tool) other.disabled = !showingSource ? true : false;
    });
  }

  toolbar.addEventListener("click", (event) => {
    const tool = event.target.closest("[data-command]");
    if (!tool) return;
    const chain = editor.chain().focus();
    switch (tool.dataset.command) {
      case "bold": chain.toggleBold().run(); break;
      case "italic": chain.toggleItalic().run(); break;
      case "bulletList": chain.toggleBulletList().run(); break;
      case "orderedList": chain.toggleOrderedList().run(); break;
      case "undo": chain.undo().run(); break;
      case "redo": chain.redo().run(); break;
      case "link": openLinkRow(); break;
      case "image": openPicker(); break;
      case "source": toggleSource(tool); break;
      default: break;
    }
  });
  link.row.addEventListener("click", (event) => {
    const tool = event.target.closest("[data-command]");
    if (!tool) return;
    if (tool.dataset.command === "link-apply") applyLink();
    if (tool.dataset.command === "link-remove") {
      link.input.value = "";
      applyLink();
    }
  });
  link.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); applyLink(); }
    if (event.key === "Escape") { link.row.hidden = true; editor.commands.focus(); }
  });
  label.addEventListener("click", (event) => {
    if (!surface.hidden) { event.preventDefault(); editor.commands.focus(); }
  });

  host.editor = editor;
  host.hidden = false;
  textarea.hidden = true;
  field.classList.add("is-rich");
}

function choose(item) {
  const url = item.dataset.assetUrl;
  const target = item.dataset.target;
  const slot = item.closest(".picker-slot");
  if (target === "editor" && activeEditor) {
    activeEditor.chain().focus().setImage({ src: url, alt: item.dataset.assetAlt || "" }).run();
  } else {
    const input = document.getElementById(`f-${target.replace(/[.[]/g, "-").replace(/]/g, "")}`);
    if (input) {
      input.value = url;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      const preview = document.querySelector(`[data-image-preview="${input.id}"]`);
      if (preview) { preview.src = url; preview.hidden = false; }
      input.focus();
    }
  }
  if (slot) slot.innerHTML = "";
}

document.addEventListener("click", (event) => {
  const item = event.target.closest("[data-asset-url]");
  if (item) { choose(item); return; }
  const close = event.target.closest("[data-picker-close]");
  if (close) { close.closest(".picker-slot").innerHTML = ""; return; }
  const width = event.target.closest("[data-frame-width]");
  if (width) {
    const variant = width.closest(".variant");
    const box = variant && variant.querySelector("[data-frame-box]");
    if (!box) return;
    box.classList.toggle("is-mobile", width.dataset.frameWidth === "mobile");
    variant.querySelectorAll("[data-frame-width]").forEach((other) =>
      other.setAttribute("aria-pressed", String(other === width)));
  }
});

document.addEventListener("focusin", (event) => {
  if (event.target.matches("[data-select-on-focus]")) event.target.select();
});

function start() {
  document.querySelectorAll("[data-rich-editor]").forEach(mountRichEditor);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
