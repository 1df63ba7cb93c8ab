// Entry for the ruleset editor: the rule language only (see code_editor.js).
import { start } from "./code_editor.js";

start();
