// Entry for the layout editor: adds HTML/MJML highlighting (see code_editor.js).
import { html } from "@codemirror/lang-html";
import { start } from "./code_editor.js";

start({ templateLanguage: () => [html({ autoCloseTags: true })] });
